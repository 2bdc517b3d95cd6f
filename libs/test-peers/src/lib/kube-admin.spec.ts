import { kubePath } from './kube-admin';

describe('kubePath', () => {
  it.each([
    ['Namespace', undefined, undefined, undefined, '/api/v1/namespaces'],
    ['Namespace', 'ignored', 'rb-1', undefined, '/api/v1/namespaces/rb-1'],
    ['Event', 'rb-1', undefined, undefined, '/api/v1/namespaces/rb-1/events'],
    ['Role', 'rb-1', undefined, undefined, '/apis/rbac.authorization.k8s.io/v1/namespaces/rb-1/roles'],
    ['ClusterRoleBinding', undefined, 'x', undefined, '/apis/rbac.authorization.k8s.io/v1/clusterrolebindings/x'],
    ['Lease', 'rb-1', 'writer', undefined, '/apis/coordination.k8s.io/v1/namespaces/rb-1/leases/writer'],
    ['ServiceEntry', 'rb-1', undefined, undefined, '/apis/networking.istio.io/v1/namespaces/rb-1/serviceentries'],
    ['WorkloadEntry', 'rb-1', 'orders-1', undefined, '/apis/networking.istio.io/v1/namespaces/rb-1/workloadentries/orders-1'],
    ['ServiceEntry', 'rb-1', undefined, 'networking.istio.io/v1beta1', '/apis/networking.istio.io/v1beta1/namespaces/rb-1/serviceentries'],
  ])('%s in %s named %s (%s) -> %s', (kind, ns, name, apiVersion, path) => {
    expect(kubePath(kind, ns, name, apiVersion)).toBe(path);
  });
});
