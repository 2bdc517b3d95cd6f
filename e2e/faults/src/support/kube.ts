// The API server as its admin sees it (raw HTTPS: test code stays off the writer's Kubernetes lib),
// and a recorder that watches every ServiceEntry/WorkloadEntry write and delete of a namespace.
import { readFileSync } from 'node:fs';
import { ClientRequest, IncomingMessage } from 'node:http';
import { request } from 'node:https';
import { KubeAdmin as PeersKubeAdmin, kubePath, type PeersEnv } from '@registry-bridge/test-peers';

export interface KubeObj {
  apiVersion?: string;
  kind?: string;
  metadata: { name: string; namespace?: string; resourceVersion?: string; generation?: number; labels?: Record<string, string>; annotations?: Record<string, string> };
  spec: {
    hosts?: string[];
    endpoints?: Array<{ address: string; ports?: Record<string, number>; labels?: Record<string, string> }>;
    ports?: Array<{ name: string; number: number; protocol?: string }>;
    [k: string]: unknown;
  };
}


export class KubeAdmin extends PeersKubeAdmin {
  constructor(readonly peers: PeersEnv) {
    super(peers.kube.server, peers.raw['RB_KUBE_ADMIN_TOKEN'], readFileSync(peers.raw['RB_KUBE_CA_FILE']));
  }

  async events(ns: string): Promise<Array<{ reason: string; message: string; type: string; involvedObject: { name: string } }>> {
    return this.list('Event', ns);
  }
}

export interface Recorded {
  at: number;
  type: 'ADDED' | 'MODIFIED' | 'DELETED';
  kind: string;
  name: string;
  service?: string;
  resourceVersion?: string;
  endpoints: string[];
  /** A MODIFIED that left metadata.generation as it was: someone wrote only the status (istiod does). */
  statusOnly: boolean;
  obj: KubeObj;
}

/**
 * Every ServiceEntry/WorkloadEntry ADDED, MODIFIED and DELETED in a namespace, from a watch that
 * starts before the apps do, so "what was written in between" is known, not guessed from the end.
 */
export class WriteRecorder {
  readonly events: Recorded[] = [];
  private reqs: ClientRequest[] = [];
  private stopped = false;
  private readonly generations = new Map<string, number | undefined>();

  constructor(
    private readonly kube: KubeAdmin,
    private readonly ns: string,
  ) {}

  async start(): Promise<void> {
    await Promise.all(['ServiceEntry', 'WorkloadEntry'].map((k) => this.watch(k)));
  }

  private async watch(kind: string, fromRv?: string): Promise<void> {
    const rv = fromRv ?? (await this.kube.must<{ metadata: { resourceVersion: string } }>('GET', kubePath(kind, this.ns))).metadata.resourceVersion;
    await new Promise<void>((ready, fail) => {
      const url = new URL(`${kubePath(kind, this.ns)}?watch=1&resourceVersion=${rv}&allowWatchBookmarks=false`, this.kube.server);
      const req = request(url, this.kube.requestOptions('GET', 'application/json', true), (res: IncomingMessage) => {
        if (res.statusCode !== 200) return fail(new Error(`watch ${kind}: ${res.statusCode}`));
        ready();
        let buf = '';
        let last = rv;
        res.on('data', (c: Buffer) => {
          buf += c.toString();
          let i;
          while ((i = buf.indexOf('\n')) >= 0) {
            const line = buf.slice(0, i);
            buf = buf.slice(i + 1);
            if (!line.trim()) continue;
            const ev = JSON.parse(line) as { type: Recorded['type'] | 'ERROR'; object: KubeObj };
            if (ev.type === 'ERROR') continue;
            last = ev.object.metadata.resourceVersion ?? last;
            const id = `${kind}/${ev.object.metadata.name}`;
            const statusOnly = ev.type === 'MODIFIED' && this.generations.get(id) === ev.object.metadata.generation;
            this.generations.set(id, ev.object.metadata.generation);
            this.events.push({
              at: Date.now(),
              type: ev.type,
              kind,
              name: ev.object.metadata.name,
              service: ev.object.metadata.annotations?.['registry-bridge.io/service'],
              resourceVersion: ev.object.metadata.resourceVersion,
              endpoints: (ev.object.spec.endpoints ?? []).map((e) => e.address).sort(),
              statusOnly,
              obj: ev.object,
            });
          }
        });
        // the API server ends watches after a while: resume from the last version seen
        res.on('end', () => void (this.stopped ? undefined : this.watch(kind, last).catch(() => undefined)));
      });
      req.on('error', (e) => (this.stopped ? undefined : fail(e)));
      req.end();
      this.reqs.push(req);
    });
  }

  stop(): void {
    this.stopped = true;
    this.reqs.forEach((r) => r.destroy());
  }

  /** Writes and deletes since `t`; status-only updates (not the writer's) are left out. */
  since(t: number, filter: Partial<Pick<Recorded, 'type' | 'kind'>> = {}): Recorded[] {
    return this.events.filter((e) => e.at >= t && !e.statusOnly && (!filter.type || e.type === filter.type) && (!filter.kind || e.kind === filter.kind));
  }

  /** Writes (ADDED/MODIFIED) and deletes since `t`, for assertion messages. */
  summary(t = 0): string {
    return this.since(t)
      .map((e) => `${e.type} ${e.kind}/${e.name} [${e.endpoints.join(',')}]`)
      .join('\n');
  }
}
