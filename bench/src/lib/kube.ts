// The harness's own view of the API server: plain HTTPS as the admin, a watch for propagation,
// and the server's request counters for writes. Independent of the writer's code on purpose.
import { readFileSync } from 'node:fs';
import { KubeAdmin as PeersKubeAdmin } from '@registry-bridge/test-peers';
import { Agent, request } from 'node:https';
import { nowMs } from './util';

export interface SeObject {
  metadata: { name: string; resourceVersion?: string; labels?: Record<string, string>; annotations?: Record<string, string> };
  spec?: { hosts?: string[]; endpoints?: Array<{ address: string; labels?: Record<string, string> }> };
}

export interface WatchEvent {
  type: 'ADDED' | 'MODIFIED' | 'DELETED';
  obj: SeObject;
  at: number;
}

export const SE_PATH = (ns: string) => `/apis/networking.istio.io/v1/namespaces/${ns}/serviceentries`;
export const WE_PATH = (ns: string) => `/apis/networking.istio.io/v1/namespaces/${ns}/workloadentries`;

const WRITE_VERBS = new Set(['POST', 'PUT', 'PATCH', 'APPLY', 'DELETE']);

export class KubeAdmin extends PeersKubeAdmin {
  constructor(server: string, token: string, caFile: string) {
    const ca = readFileSync(caFile);
    super(server, token, ca, { agent: new Agent({ keepAlive: true, maxSockets: 16, ca }), timeoutMs: 60_000 });
  }

  async ensureNamespace(ns: string): Promise<void> {
    const r = await this.call('POST', '/api/v1/namespaces', { apiVersion: 'v1', kind: 'Namespace', metadata: { name: ns, labels: { 'registry-bridge.io/bench': 'true' } } });
    if (r.status >= 300 && r.status !== 409) throw new Error(`namespace ${ns}: HTTP ${r.status}`);
  }

  /** Removes what a run wrote (no namespace controller runs on the peers, so objects go by collection). */
  async cleanNamespace(ns: string): Promise<void> {
    for (const p of [SE_PATH(ns), WE_PATH(ns), `/apis/coordination.k8s.io/v1/namespaces/${ns}/leases`, `/api/v1/namespaces/${ns}/events`]) await this.call('DELETE', p);
    await this.call('DELETE', `/api/v1/namespaces/${ns}`);
  }

  async listServiceEntries(ns: string): Promise<{ items: SeObject[]; resourceVersion: string }> {
    const items: SeObject[] = [];
    let cont = '';
    let rv = '';
    do {
      const r = await this.call<{ items: SeObject[]; metadata: { continue?: string; resourceVersion: string } }>('GET', `${SE_PATH(ns)}?limit=1000${cont ? `&continue=${encodeURIComponent(cont)}` : ''}`);
      if (r.status !== 200) throw new Error(`list serviceentries: HTTP ${r.status}`);
      items.push(...r.body.items);
      cont = r.body.metadata.continue ?? '';
      rv = r.body.metadata.resourceVersion;
    } while (cont);
    return { items, resourceVersion: rv };
  }

  /**
   * Watches ServiceEntries of a namespace from `resourceVersion`; every event carries its arrival
   * time. Reconnects from the last version seen until stopped.
   */
  watchServiceEntries(ns: string, resourceVersion: string, onEvent: (e: WatchEvent) => void): () => void {
    let stopped = false;
    let rv = resourceVersion;
    let current: ReturnType<typeof request> | undefined;
    const once = () =>
      new Promise<void>((resolve) => {
        const path = `${SE_PATH(ns)}?watch=1&allowWatchBookmarks=true&timeoutSeconds=600&resourceVersion=${rv}`;
        current = request(new URL(path, this.server), this.requestOptions('GET', 'application/json', true), (res) => {
          let buf = '';
          res.setEncoding('utf8');
          res.on('data', (chunk: string) => {
            const at = nowMs();
            buf += chunk;
            let nl: number;
            while ((nl = buf.indexOf('\n')) >= 0) {
              const line = buf.slice(0, nl);
              buf = buf.slice(nl + 1);
              if (!line.trim()) continue;
              const ev = JSON.parse(line) as { type: string; object: SeObject };
              if (ev.object?.metadata?.resourceVersion) rv = ev.object.metadata.resourceVersion;
              if (ev.type === 'ADDED' || ev.type === 'MODIFIED' || ev.type === 'DELETED') onEvent({ type: ev.type, obj: ev.object, at });
            }
          });
          res.on('end', () => resolve());
          res.on('error', () => resolve());
        });
        current.on('error', () => resolve());
        current.end();
      });
    void (async () => {
      while (!stopped) await once();
    })();
    return () => {
      stopped = true;
      current?.destroy();
    };
  }

  /**
   * The API server's own counters: writes to ServiceEntries/WorkloadEntries and 429s of any resource.
   * Writes to the status subresource are istiod's (it reports on each object), not ours: counted apart.
   */
  async requestCounters(): Promise<ApiCounters> {
    const r = await this.call<string>('GET', '/metrics');
    const out: ApiCounters = { writes: 0, writesByVerb: {}, statusWrites: 0, refused429: 0, reads: 0 };
    for (const line of String(r.body).split('\n')) {
      if (!line.startsWith('apiserver_request_total{')) continue;
      const labels = Object.fromEntries([...line.matchAll(/(\w+)="([^"]*)"/g)].map((m) => [m[1], m[2]]));
      const value = Number(line.slice(line.lastIndexOf(' ') + 1));
      if (labels['code'] === '429') out.refused429 += value;
      if (labels['resource'] !== 'serviceentries' && labels['resource'] !== 'workloadentries') continue;
      if (WRITE_VERBS.has(labels['verb']) && labels['subresource'] === 'status') out.statusWrites += value;
      else if (WRITE_VERBS.has(labels['verb'])) {
        out.writes += value;
        const k = `${labels['resource']}:${labels['verb']}`;
        out.writesByVerb[k] = (out.writesByVerb[k] ?? 0) + value;
      } else if (labels['verb'] === 'GET' || labels['verb'] === 'LIST') out.reads += value;
    }
    return out;
  }
}

export interface ApiCounters {
  writes: number;
  writesByVerb: Record<string, number>;
  /** Writes to the status subresource (istiod's). */
  statusWrites: number;
  refused429: number;
  reads: number;
}

export function counterDelta(a: ApiCounters, b: ApiCounters): ApiCounters {
  const byVerb: Record<string, number> = {};
  for (const k of new Set([...Object.keys(a.writesByVerb), ...Object.keys(b.writesByVerb)])) {
    const d = (b.writesByVerb[k] ?? 0) - (a.writesByVerb[k] ?? 0);
    if (d) byVerb[k] = d;
  }
  return { writes: b.writes - a.writes, writesByVerb: byVerb, statusWrites: b.statusWrites - a.statusWrites, refused429: b.refused429 - a.refused429, reads: b.reads - a.reads };
}

/** Endpoint fingerprint of a ServiceEntry: what the registry side predicts for a service. */
export function seSignature(obj: SeObject): string {
  return (obj.spec?.endpoints ?? [])
    .map((e) => `${e.address}|${e.labels?.['version'] ?? ''}`)
    .sort()
    .join(',');
}
