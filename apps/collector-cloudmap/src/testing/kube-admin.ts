// Test helper: the end-to-end spec checks what the writer applied, as the API server's admin.
// (The collector itself never talks to Kubernetes.) Candidate for libs/test-peers: the Consul
// collector's spec carries a twin.
import { readFileSync } from 'node:fs';
import { request } from 'node:https';
import type { PeersEnv } from '@registry-bridge/test-peers';

export interface KubeObject {
  apiVersion: string;
  kind: string;
  metadata: { name: string; namespace?: string; labels?: Record<string, string>; annotations?: Record<string, string> };
  spec?: Record<string, unknown>;
}

const PLURALS: Record<string, string> = { Namespace: 'namespaces', Role: 'roles', RoleBinding: 'rolebindings', ServiceEntry: 'serviceentries', WorkloadEntry: 'workloadentries' };

export function objectsPath(apiVersion: string, kind: string, namespace?: string): string {
  const base = apiVersion.includes('/') ? `/apis/${apiVersion}` : `/api/${apiVersion}`;
  return `${base}${namespace ? `/namespaces/${namespace}` : ''}/${PLURALS[kind] ?? `${kind.toLowerCase()}s`}`;
}

export class KubeAdmin {
  private readonly ca: Buffer;
  private readonly token: string;

  constructor(private readonly peers: PeersEnv) {
    this.ca = readFileSync(peers.raw['RB_KUBE_CA_FILE']);
    this.token = peers.raw['RB_KUBE_ADMIN_TOKEN'];
  }

  call<T>(method: string, path: string, body?: unknown): Promise<{ status: number; body: T }> {
    return new Promise((resolve, reject) => {
      const headers = { authorization: `Bearer ${this.token}`, 'content-type': 'application/json', accept: 'application/json' };
      const req = request(new URL(path, this.peers.kube.server), { method, ca: this.ca, headers }, (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => {
          const text = Buffer.concat(chunks).toString();
          resolve({ status: res.statusCode ?? 0, body: (text.startsWith('{') ? JSON.parse(text) : text) as T });
        });
      });
      req.on('error', reject);
      req.end(body === undefined ? undefined : JSON.stringify(body));
    });
  }

  async create(obj: KubeObject): Promise<void> {
    const r = await this.call('POST', objectsPath(obj.apiVersion, obj.kind, obj.metadata.namespace), obj);
    if (r.status >= 300) throw new Error(`create ${obj.kind}/${obj.metadata.name}: ${r.status} ${JSON.stringify(r.body).slice(0, 300)}`);
  }

  async list(apiVersion: string, kind: string, namespace: string): Promise<KubeObject[]> {
    const r = await this.call<{ items?: KubeObject[] }>('GET', objectsPath(apiVersion, kind, namespace));
    return r.body.items ?? [];
  }

  async deleteNamespace(name: string): Promise<void> {
    await this.call('DELETE', `${objectsPath('v1', 'Namespace')}/${name}`);
  }
}
