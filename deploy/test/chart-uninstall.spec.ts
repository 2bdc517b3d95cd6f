import { find, one, podSpec, render } from './chart';

// uninstall.deleteWrittenResources: the post-delete hook that removes what the writer wrote.
describe('uninstall hook', () => {
  it('is not rendered by default: helm uninstall leaves the written ServiceEntries', () => {
    const objs = render();
    expect(find(objs, 'Job')).toEqual([]);
    expect(objs.filter((o) => o.metadata.annotations?.['helm.sh/hook'])).toEqual([]);
  });

  describe('when asked for', () => {
    const objs = render({ values: { installation: 'prod', uninstall: { deleteWrittenResources: true } } });
    const hooks = objs.filter((o) => o.metadata.annotations?.['helm.sh/hook']);

    it('is a post-delete Job with its own ServiceAccount and RBAC, all hooks created before the Job and removed when it succeeds', () => {
      expect(hooks.map((o) => `${o.kind}/${o.metadata.name}`).sort()).toEqual(
        [
          'ClusterRole/rb-registry-bridge-uninstall-registry-bridge',
          'ClusterRoleBinding/rb-registry-bridge-uninstall-registry-bridge',
          'Job/rb-registry-bridge-uninstall',
          'Role/rb-registry-bridge-uninstall',
          'RoleBinding/rb-registry-bridge-uninstall',
          'ServiceAccount/rb-registry-bridge-uninstall',
        ].sort(),
      );
      for (const h of hooks) {
        expect(h.metadata.annotations?.['helm.sh/hook']).toBe('post-delete');
        expect(h.metadata.annotations?.['helm.sh/hook-delete-policy']).toBe('before-hook-creation,hook-succeeded');
      }
      const weight = (o: { metadata: { annotations?: Record<string, string> } }) => Number(o.metadata.annotations?.['helm.sh/hook-weight']);
      const job = one(objs, 'Job', 'rb-registry-bridge-uninstall');
      for (const h of hooks.filter((o) => o.kind !== 'Job')) expect(weight(h)).toBeLessThan(weight(job));
    });

    it('may list and delete both written kinds cluster-wide and read only the writer Lease, nothing else', () => {
      expect(one(objs, 'ClusterRole', 'rb-registry-bridge-uninstall-registry-bridge')['rules']).toEqual([
        { apiGroups: ['networking.istio.io'], resources: ['serviceentries', 'workloadentries'], verbs: ['list', 'delete'] },
      ]);
      expect(one(objs, 'Role', 'rb-registry-bridge-uninstall')['rules']).toEqual([
        { apiGroups: ['coordination.k8s.io'], resources: ['leases'], resourceNames: ['rb-registry-bridge-writer'], verbs: ['get'] },
      ]);
      for (const b of [one(objs, 'ClusterRoleBinding', 'rb-registry-bridge-uninstall-registry-bridge'), one(objs, 'RoleBinding', 'rb-registry-bridge-uninstall')]) {
        expect(b['subjects']).toEqual([{ kind: 'ServiceAccount', name: 'rb-registry-bridge-uninstall', namespace: 'registry-bridge' }]);
      }
    });

    it('runs the writer image with the uninstall entrypoint, hardened like the apps, for this installation and Lease', () => {
      const job = one(objs, 'Job', 'rb-registry-bridge-uninstall');
      const pod = podSpec(job);
      const writer = podSpec(one(objs, 'Deployment', 'rb-registry-bridge-writer'));
      const c = pod.containers[0] as (typeof pod.containers)[number] & { args: string[] };
      expect(pod.serviceAccountName).toBe('rb-registry-bridge-uninstall');
      expect(c.image).toBe(writer.containers[0].image);
      expect(c.args).toEqual(['node', '/app/main.js', 'uninstall']);
      expect(c.securityContext).toEqual(writer.containers[0].securityContext);
      expect(pod.securityContext).toEqual(writer.securityContext);
      expect(Object.fromEntries((c.env ?? []).map((e) => [e.name, e.value]))).toEqual({
        RB_UNINSTALL_INSTALLATION: 'prod',
        RB_UNINSTALL_LEASE_NAMESPACE: 'registry-bridge',
        RB_UNINSTALL_LEASE_NAME: 'rb-registry-bridge-writer',
        RB_UNINSTALL_LEASE_DURATION_SECONDS: '15',
        RB_UNINSTALL_TIMEOUT_SECONDS: '240',
      });
    });
  });
});
