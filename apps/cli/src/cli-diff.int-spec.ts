// The built CLI as a process against the real peers: registries seeded under names of this run,
// a namespace of its own with objects made beforehand, and a read-only identity, so any write
// would fail and the objects before and after are compared.
import { KubeClient, KubeObject } from '@registry-bridge/kube';
import { loadPeersEnv, PeersEnv } from '@registry-bridge/test-peers';
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { stringify } from 'yaml';
import { RegistryFixture } from './testing/registry-fixture';

jest.setTimeout(180_000);

const WORKSPACE = resolve(__dirname, '../../..');
const CLI_MAIN = join(WORKSPACE, 'dist/apps/cli/main.js');
const ISTIO = 'networking.istio.io/v1';

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

interface JsonReport {
  exitCode: number;
  added: Array<{ kind: string; name: string; key: string; host?: string; object: KubeObject }>;
  changed: Array<{ kind: string; name: string; key: string; fields: Array<{ path: string; old: unknown; new: unknown }> }>;
  deleted: Array<{ kind: string; name: string; key: string; why: string }>;
  refused: Array<{ key: string; reason: string; detail: string }>;
  unchangedObjects: Array<{ kind: string; name: string; key: string }>;
  errors: string[];
  sources: Array<{ source: string; services: number; complete: boolean; error?: string }>;
}

describe('registry-bridge diff against the real peers', () => {
  const id = randomBytes(3).toString('hex');
  const ns = `rb-cli-${id}`;
  const p = `dr${id}`; // prefix of every registry name of this run
  const dir = mkdtempSync(join(tmpdir(), 'rb-cli-it-'));
  let peers: PeersEnv;
  let admin: KubeClient;
  let registries: RegistryFixture;
  let files: { writer: string; consul: string; eureka: string; cloudmap: string };

  const cli = (args: string[], env: NodeJS.ProcessEnv = {}): Promise<Run> =>
    new Promise((done, fail) => {
      const proc = spawn(process.execPath, [CLI_MAIN, ...args], {
        env: { ...process.env, AWS_ACCESS_KEY_ID: peers.cloudMap.accessKeyId, AWS_SECRET_ACCESS_KEY: peers.cloudMap.secretAccessKey, ...env },
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      let stdout = '';
      let stderr = '';
      proc.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
      proc.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
      proc.on('error', fail);
      proc.on('close', (code) => done({ code, stdout, stderr }));
    });
  const diffArgs = (output: 'text' | 'json', consul = files.consul) => [
    'diff',
    '--writer-config',
    files.writer,
    '--collector-config',
    `consul=${consul}`,
    '--collector-config',
    `eureka=${files.eureka}`,
    '--collector-config',
    `cloudmap=${files.cloudmap}`,
    '--output',
    output,
  ];
  const json = async (): Promise<JsonReport & Run> => {
    const run = await cli(diffArgs('json'));
    if (!run.stdout.startsWith('{')) throw new Error(`no JSON (exit ${run.code}): ${run.stderr.slice(0, 2000)}`);
    return { ...run, ...(JSON.parse(run.stdout) as JsonReport) };
  };
  /**
   * Every object in the namespace as far as a writer could change it: uid, generation, labels,
   * annotations, spec, and who manages fields. Equal before and after = nothing written. (Not the
   * resourceVersion: an istiod on the peers writes status addresses to ServiceEntries.)
   */
  const state = async () => {
    const objs = [...(await admin.list<KubeObject>(ISTIO, 'ServiceEntry', ns)), ...(await admin.list<KubeObject>(ISTIO, 'WorkloadEntry', ns))];
    return objs
      .map((o) => {
        const { uid, generation, labels, annotations, managedFields } = o.metadata;
        const managers = (managedFields ?? []).filter((f) => !f.subresource).map((f) => f.manager);
        return JSON.stringify([o.kind, o.metadata.name, uid, generation, labels, annotations, o.spec, managers]);
      })
      .sort();
  };

  beforeAll(async () => {
    if (!existsSync(CLI_MAIN)) throw new Error(`${CLI_MAIN} is missing: run \`npx nx build cli\` (the int-test target builds it first)`);
    peers = await loadPeersEnv({ peers: ['kube', 'consul', 'eureka', 'cloudMap'] });
    admin = KubeClient.fromOptions({ kubeconfig: peers.kube.adminKubeconfig, qps: 100, burst: 100, maxAttempts: 3, fieldManager: 'rb-test' });
    await admin.create({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: ns } });
    // The CLI runs as a user that may only get and list Istio entries in this namespace.
    await admin.create({
      apiVersion: 'rbac.authorization.k8s.io/v1',
      kind: 'Role',
      metadata: { name: 'dry-run', namespace: ns },
      rules: [{ apiGroups: ['networking.istio.io'], resources: ['serviceentries', 'workloadentries'], verbs: ['get', 'list'] }],
    } as KubeObject);
    await admin.create({
      apiVersion: 'rbac.authorization.k8s.io/v1',
      kind: 'RoleBinding',
      metadata: { name: 'dry-run', namespace: ns },
      roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'Role', name: 'dry-run' },
      subjects: [{ kind: 'User', name: peers.kube.writerUser, apiGroup: 'rbac.authorization.k8s.io' }],
    } as KubeObject);

    registries = new RegistryFixture(peers);
    await registries.consul(`${p}-web`, `${p}-web-1`, '10.40.0.11', 8080, true, { Meta: { protocol: 'http' }, Tags: ['version=v1'] });
    await registries.consul(`${p}-web`, `${p}-web-2`, '10.40.0.12', 8080, false, { Meta: { protocol: 'http' } });
    await registries.consul(`${p}-api`, `${p}-api-1`, '10.40.1.11', 9090, true);
    await registries.eureka(`${p.toUpperCase()}ORDERS`, `${p}-orders-1`, '10.41.0.11', 8080, 'UP', { team: 'checkout' });
    await registries.eureka(`${p.toUpperCase()}ORDERS`, `${p}-orders-2`, '10.41.0.12', 8080, 'UP');
    await registries.eureka(`${p.toUpperCase()}ORDERS`, `${p}-orders-3`, '10.41.0.13', 8080, 'DOWN');
    await registries.cloudMap(`${p}.local`, `${p}-catalog`, [{ id: 'catalog-a', ip: '10.42.0.11', port: 8080 }]);
    await registries.cloudMap(`${p}.example`, `${p}-pay`, [{ id: 'pay-a', ip: '10.42.1.11', port: 8443 }]);

    const write = (name: string, cfg: unknown) => {
      const f = join(dir, name);
      writeFileSync(f, stringify(cfg));
      return f;
    };
    files = {
      writer: write('writer.yaml', {
        installation: 'it',
        kubernetes: { kubeconfig: peers.kube.writerKubeconfig },
        deletion: { gracePeriodSeconds: 30 },
        defaults: { namespace: ns },
        sources: { 'consul-dc1': { kind: 'consul' }, 'eureka-a': { kind: 'eureka', endpointMode: 'workloadEntry' }, 'cloudmap-a': { kind: 'cloudmap' } },
      }),
      // Filters keep other suites' services on the shared peers out of this run.
      consul: write('consul.yaml', { sources: [{ name: 'consul-dc1', address: peers.consul.addr, filters: { allow: [`${p}-*`] }, watch: { maxBlockingWatches: 4 } }] }),
      eureka: write('eureka.yaml', { sources: [{ name: 'eureka-a', serviceUrls: [peers.eureka.url], apps: { allow: [`${p}*`] }, dashboard: { enabled: false } }] }),
      cloudmap: write('cloudmap.yaml', {
        sources: [
          {
            name: 'cloudmap-a',
            region: peers.cloudMap.region,
            endpoint: peers.cloudMap.endpoint,
            namespaces: { names: [`${p}.local`, `${p}.example`] },
            services: { allow: [`${p}-*`] },
            // moto ignores the ListServices namespace filter (docs/local-peers.md)
            verifyServiceNamespace: true,
          },
        ],
      }),
    };
  });

  afterAll(async () => {
    await registries?.tearDown();
    await admin?.delete('v1', 'Namespace', '', ns).catch(() => undefined);
  });

  it('the identity the CLI runs as cannot write in the namespace', async () => {
    for (const verb of ['create', 'patch', 'update', 'delete']) {
      const review = await admin.create({
        apiVersion: 'authorization.k8s.io/v1',
        kind: 'SubjectAccessReview',
        metadata: { name: '' },
        spec: { user: peers.kube.writerUser, resourceAttributes: { namespace: ns, verb, group: 'networking.istio.io', resource: 'serviceentries' } },
      } as KubeObject);
      expect([verb, (review as unknown as { status: { allowed: boolean } }).status.allowed]).toEqual([verb, false]);
    }
  });

  it('against an empty namespace: every service is added, the refusals say why, exit code 2', async () => {
    const r = await json();
    expect(r.errors).toEqual([]);
    expect(r.code).toBe(2);
    expect(r.exitCode).toBe(2);
    expect(r.sources.map((s) => [s.source, s.services, s.complete])).toEqual([
      ['consul-dc1', 2, true],
      ['eureka-a', 1, true],
      ['cloudmap-a', 2, true],
    ]);
    expect(r.added.map((a) => [a.kind, a.key]).sort()).toEqual(
      [
        ['ServiceEntry', `cloudmap-a/${p}.local/${p}-catalog`],
        ['ServiceEntry', `consul-dc1//${p}-api`],
        ['ServiceEntry', `consul-dc1//${p}-web`],
        ['ServiceEntry', `eureka-a//${p}orders`],
        // orders-3 is DOWN: no WorkloadEntry for it
        ['WorkloadEntry', `eureka-a//${p}orders`],
        ['WorkloadEntry', `eureka-a//${p}orders`],
      ].sort(),
    );
    expect(r.refused).toEqual([expect.objectContaining({ key: `cloudmap-a/${p}.example/${p}-pay`, reason: 'host-not-allowed' })]);
    const web = r.added.find((a) => a.key === `consul-dc1//${p}-web`);
    // web-2 fails its check: only web-1 is an endpoint
    expect((web?.object.spec as { endpoints: Array<{ address: string }> }).endpoints.map((e) => e.address)).toEqual(['10.40.0.11']);
  });

  it('against objects made beforehand: unchanged, changed with the field, deleted orphan, refused host; nothing written', async () => {
    const first = await json();
    const desired = (key: string) => {
      const o = first.added.find((a) => a.kind === 'ServiceEntry' && a.key === key)?.object;
      if (!o) throw new Error(`no desired ServiceEntry for ${key}`);
      return JSON.parse(JSON.stringify(o)) as KubeObject & { spec: { hosts: string[]; endpoints: Array<{ address: string }> } };
    };
    // In sync: exactly what the writer would write.
    await admin.create(desired(`consul-dc1//${p}-api`));
    // Drifted: an endpoint address edited by hand.
    const drifted = desired(`consul-dc1//${p}-web`);
    drifted.spec.endpoints[0].address = '10.99.0.1';
    await admin.create(drifted);
    // Owned orphan: ours, of a configured source, but its service is gone from Consul.
    const orphan = desired(`consul-dc1//${p}-api`);
    orphan.metadata.name = `consul-dc1-${p}-gone-00000000`;
    orphan.metadata.annotations = { ...orphan.metadata.annotations, 'registry-bridge.io/service-key': `consul-dc1//${p}-gone`, 'registry-bridge.io/service': `${p}-gone` };
    orphan.spec.hosts = [`${p}-gone.service.consul`];
    await admin.create(orphan);
    // Foreign: someone else's entry already has the host the Cloud Map service would get.
    await admin.create({ apiVersion: ISTIO, kind: 'ServiceEntry', metadata: { name: 'theirs', namespace: ns }, spec: { hosts: [`${p}-catalog.${p}.local`], resolution: 'DNS', ports: [{ name: 'http', number: 80, protocol: 'HTTP' }] } } as KubeObject);

    const before = await state();
    const r = await json();
    const text = await cli(diffArgs('text'));
    expect(await state()).toEqual(before);

    expect(r.errors).toEqual([]);
    expect(r.code).toBe(2);
    expect(r.unchangedObjects.map((u) => u.key)).toEqual([`consul-dc1//${p}-api`]);
    expect(r.changed).toEqual([expect.objectContaining({ key: `consul-dc1//${p}-web`, fields: [{ path: 'spec.endpoints[0].address', old: '10.99.0.1', new: '10.40.0.11' }] })]);
    expect(r.deleted).toEqual([expect.objectContaining({ kind: 'ServiceEntry', key: `consul-dc1//${p}-gone`, why: expect.stringContaining('after the grace period (30s), subject to the deletion budget') })]);
    expect(r.refused.map((x) => [x.key, x.reason]).sort()).toEqual(
      [
        [`cloudmap-a/${p}.example/${p}-pay`, 'host-not-allowed'],
        [`cloudmap-a/${p}.local/${p}-catalog`, 'host-collision'],
      ].sort(),
    );
    expect(r.refused.find((x) => x.reason === 'host-collision')?.detail).toContain(`ServiceEntry ${ns}/theirs`);
    expect(r.added.map((a) => a.kind).sort()).toEqual(['ServiceEntry', 'WorkloadEntry', 'WorkloadEntry']);

    expect(text.code).toBe(2);
    expect(text.stdout).toContain(`      spec.endpoints[0].address: 10.99.0.1 → 10.40.0.11`);
    expect(text.stdout).toMatch(new RegExp(`  - ServiceEntry ${ns}/consul-dc1-${p}-gone-00000000  consul-dc1//${p}-gone: no longer in the registry`));
    expect(text.stdout).toMatch(/Summary: 3 to add, 1 to change, 1 to delete, 2 refused, 1 unchanged\n$/);
    // The example in docs/cli.md comes from this run.
    writeFileSync(join(dir, 'example.txt'), text.stdout);
  });

  it('exits 1 and says why when a registry is unreachable, still writing nothing', async () => {
    const before = await state();
    const bad = join(dir, 'consul-down.yaml');
    writeFileSync(bad, stringify({ sources: [{ name: 'consul-dc1', address: 'http://127.0.0.1:1', watch: { backoffMaxSeconds: 0.1 } }] }));
    const r = await cli(diffArgs('text', bad));
    expect(r.code).toBe(1);
    expect(r.stdout).toMatch(/x source consul-dc1 \(consul\): .*ECONNREFUSED/);
    expect(r.stdout).toMatch(/the diff is incomplete/);
    // A failed read deletes nothing, whatever the cluster holds.
    expect(r.stdout).not.toMatch(/Deleted/);
    expect(await state()).toEqual(before);
  });

  it('exits 1 with the bad key on a broken writer config', async () => {
    const bad = join(dir, 'writer-bad.yaml');
    writeFileSync(bad, stringify({ sources: { 'consul-dc1': { kind: 'consul', hostTemplat: 'x' } } }));
    const r = await cli(['diff', '--writer-config', bad, '--collector-config', `consul=${files.consul}`]);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/sources\.consul-dc1\.hostTemplat: unknown key/);
  });
});
