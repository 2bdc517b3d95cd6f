// Test helper: the few Kubernetes API calls the end-to-end spec needs, as the admin of the real
// API server of `bash scripts/peers.sh up` (collectors never talk to Kubernetes; only this test does).
import { readFileSync } from 'node:fs';
import { request } from 'node:https';

export interface KubeRest {
  call<T = unknown>(method: string, path: string, body?: unknown): Promise<{ status: number; body: T }>;
}

export function kubeRest(server: string, token: string, caFile: string): KubeRest {
  const ca = readFileSync(caFile);
  return {
    call<T>(method: string, path: string, body?: unknown) {
      return new Promise<{ status: number; body: T }>((resolve, reject) => {
        const req = request(new URL(path, server), { method, ca, headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json', accept: 'application/json' } }, (res) => {
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
        req.on('error', reject);
        if (body !== undefined) req.write(JSON.stringify(body));
        req.end();
      });
    },
  };
}

/** API path of a namespaced object kind this test creates. */
export function collectionPath(kind: string, namespace?: string): string {
  switch (kind) {
    case 'Namespace':
      return '/api/v1/namespaces';
    case 'Role':
      return `/apis/rbac.authorization.k8s.io/v1/namespaces/${namespace}/roles`;
    case 'RoleBinding':
      return `/apis/rbac.authorization.k8s.io/v1/namespaces/${namespace}/rolebindings`;
    case 'ServiceEntry':
      return `/apis/networking.istio.io/v1/namespaces/${namespace}/serviceentries`;
    default:
      throw new Error(`no path for kind ${kind}`);
  }
}
