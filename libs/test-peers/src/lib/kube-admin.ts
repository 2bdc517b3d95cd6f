// The Kubernetes API server of `bash scripts/peers.sh up` as its admin sees it, over plain HTTPS:
// what tests and the benchmark check is read independently of the writer's Kubernetes library.
import { readFileSync } from 'node:fs';
import { Agent, request, RequestOptions } from 'node:https';
import { parseAllDocuments } from 'yaml';
import type { PeersEnv } from './peers-env';

export interface KubeResponse<T> {
  status: number;
  /** Parsed JSON, or the text when the answer is not JSON (metrics, some errors). */
  body: T;
}

export interface AdminObject {
  apiVersion: string;
  kind: string;
  metadata: { name: string; namespace?: string; labels?: Record<string, string>; annotations?: Record<string, string>; resourceVersion?: string };
  spec?: Record<string, unknown>;
}

const PLURALS: Record<string, string> = { ServiceEntry: 'serviceentries', WorkloadEntry: 'workloadentries' };
const CORE = new Set(['Namespace', 'Event', 'ServiceAccount', 'Secret', 'ConfigMap']);

function defaultApiVersion(kind: string): string {
  if (CORE.has(kind)) return 'v1';
  if (kind.startsWith('Role') || kind.startsWith('ClusterRole')) return 'rbac.authorization.k8s.io/v1';
  if (kind === 'Lease') return 'coordination.k8s.io/v1';
  return 'networking.istio.io/v1';
}

/** REST path of a kind's collection in a namespace (or of one object); the API group defaults to the kind's usual one. */
export function kubePath(kind: string, namespace?: string, name?: string, apiVersion = defaultApiVersion(kind)): string {
  const base = apiVersion.includes('/') ? `/apis/${apiVersion}` : `/api/${apiVersion}`;
  const plural = PLURALS[kind] ?? `${kind.toLowerCase()}s`;
  return `${base}${namespace && kind !== 'Namespace' ? `/namespaces/${namespace}` : ''}/${plural}${name ? `/${name}` : ''}`;
}

export interface KubeAdminOptions {
  /** A keep-alive agent for callers that make many requests (the benchmark); it must trust the CA. */
  agent?: Agent;
  /** Per-request timeout; none by default. */
  timeoutMs?: number;
}

export class KubeAdmin {
  constructor(
    readonly server: string,
    private readonly token: string,
    readonly ca: Buffer,
    private readonly options: KubeAdminOptions = {},
  ) {}

  /** The admin of the peers' API server (token and CA from the peers' env file). */
  static forPeers(peers: PeersEnv, options?: KubeAdminOptions): KubeAdmin {
    return new KubeAdmin(peers.kube.server, peers.raw['RB_KUBE_ADMIN_TOKEN'], readFileSync(peers.raw['RB_KUBE_CA_FILE']), options);
  }

  /** Options for a request of one's own; a `stream` (a watch) keeps its connection, so it takes none from the agent's pool. */
  requestOptions(method = 'GET', contentType = 'application/json', stream = false): RequestOptions {
    return {
      method,
      ...(this.options.agent && !stream ? { agent: this.options.agent } : { ca: this.ca }),
      headers: { authorization: `Bearer ${this.token}`, 'content-type': contentType, accept: 'application/json' },
    };
  }

  call<T = unknown>(method: string, path: string, body?: unknown, contentType = 'application/json'): Promise<KubeResponse<T>> {
    return new Promise((resolve, reject) => {
      const req = request(new URL(path, this.server), this.requestOptions(method, contentType), (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => {
          const text = Buffer.concat(chunks).toString();
          let parsed: unknown = text;
          try {
            parsed = JSON.parse(text);
          } catch {
            // not JSON: keep the text
          }
          resolve({ status: res.statusCode ?? 0, body: parsed as T });
        });
      });
      if (this.options.timeoutMs) req.setTimeout(this.options.timeoutMs, () => req.destroy(new Error(`${method} ${path}: timeout`)));
      req.on('error', reject);
      req.end(body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body));
    });
  }

  /** Like `call`, but an answer of 300 or more throws with the method, path and what the server said. */
  async must<T = unknown>(method: string, path: string, body?: unknown, contentType?: string): Promise<T> {
    const r = await this.call<T>(method, path, body, contentType);
    if (r.status >= 300) throw new Error(`${method} ${path}: ${r.status} ${JSON.stringify(r.body).slice(0, 500)}`);
    return r.body;
  }

  /** Creates an object; one that already exists is an error unless `existingOk`. */
  async create(obj: AdminObject, existingOk = false): Promise<void> {
    const r = await this.call('POST', kubePath(obj.kind, obj.metadata.namespace, undefined, obj.apiVersion), obj);
    if (r.status >= 300 && !(existingOk && r.status === 409)) throw new Error(`create ${obj.kind} ${obj.metadata.name}: ${r.status} ${JSON.stringify(r.body).slice(0, 300)}`);
  }

  async list<T = AdminObject>(kind: string, namespace: string): Promise<T[]> {
    return (await this.must<{ items: T[] }>('GET', kubePath(kind, namespace))).items;
  }

  /**
   * A namespace for one test, in which `user` has exactly the writer's least-privilege RBAC of
   * `rbacFile` (deploy/manifests/writer-rbac.yaml), as in a real install.
   */
  async writerNamespace(namespace: string, user: string, rbacFile: string): Promise<void> {
    await this.create({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: namespace } });
    const rbac = readFileSync(rbacFile, 'utf8').replace(/LEASE_NAMESPACE/g, namespace).replace(/NAMESPACE/g, namespace).replace(/SUBJECT/g, user);
    for (const doc of parseAllDocuments(rbac)) await this.create(doc.toJSON() as AdminObject);
  }

  /** Deletes a namespace; no controller-manager runs on the peers, so what is in it stays until the next `up`. */
  async deleteNamespace(namespace: string): Promise<void> {
    await this.call('DELETE', kubePath('Namespace', undefined, namespace));
  }
}
