import { ConfigError, loadConfig } from '@registry-bridge/app-config';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parse } from 'yaml';
import { z } from 'zod';
import { collectorCloudMapConfigSchema, collectorConsulConfigSchema, collectorEurekaConfigSchema, writerConfigSchema } from '@registry-bridge/config';
import { App, CI_VALUES, configText, K8sObject, materializeSecretFiles, one, podSpec, render, renderError, RenderOptions } from './chart';

// The ConfigMaps the chart renders are loaded exactly as the apps load them at start
// (loadConfig + each app's own zod schema, env overrides from the Deployment), with the
// referenced secret files created where the pod's Secret mounts would put them.
const SCHEMAS: Record<App, z.ZodType> = {
  writer: writerConfigSchema,
  'collector-consul': collectorConsulConfigSchema,
  'collector-eureka': collectorEurekaConfigSchema,
  'collector-cloudmap': collectorCloudMapConfigSchema,
};

function loadAppConfig(objs: K8sObject[], release: string, app: App): Record<string, unknown> {
  const deployment = one(objs, 'Deployment', `${release}-registry-bridge-${app}`);
  const pod = podSpec(deployment);
  const root = mkdtempSync(join(tmpdir(), 'rb-secrets-'));
  const text = materializeSecretFiles(configText(objs, release, app), pod, root);
  const file = join(root, 'config.yaml');
  writeFileSync(file, text);
  const env: NodeJS.ProcessEnv = {};
  for (const e of pod.containers[0].env ?? []) {
    if (e.value !== undefined) env[e.name] = e.value;
    else if (e.valueFrom?.fieldRef?.fieldPath === 'metadata.name') env[e.name] = `${deployment.metadata.name}-7d9f8-abcde`;
  }
  expect(env['RB_CONFIG_FILE']).toBe('/etc/registry-bridge/config.yaml');
  // The ConfigMap is mounted where RB_CONFIG_FILE points.
  const mount = pod.containers[0].volumeMounts.find((m) => m.name === 'config');
  expect(`${mount?.mountPath}/config.yaml`).toBe(env['RB_CONFIG_FILE']);
  return loadConfig(SCHEMAS[app], { ...env, RB_CONFIG_FILE: file }) as Record<string, unknown>;
}

const cases: Array<[string, RenderOptions, App[]]> = [
  ['default values', {}, ['writer', 'collector-consul']],
  ['ci/all-apps-values.yaml', { valuesFiles: [CI_VALUES[0]] }, ['writer', 'collector-consul', 'collector-eureka', 'collector-cloudmap']],
  ['ci/cluster-wide-values.yaml', { valuesFiles: [CI_VALUES[1]] }, ['writer', 'collector-cloudmap']],
];

describe.each(cases)('rendered config with %s', (_name, opts, apps) => {
  const objs = render(opts);

  it('deploys exactly the enabled apps', () => {
    expect(objs.filter((o) => o.kind === 'Deployment').map((o) => o.metadata.name).sort()).toEqual(apps.map((a) => `rb-registry-bridge-${a}`).sort());
  });

  it.each(apps)('%s config validates with the app schema', (app) => {
    const cfg = loadAppConfig(objs, 'rb', app);
    expect((cfg['http'] as { port: number }).port).toBe(8080);
    expect((cfg['redis'] as { prefix: string }).prefix).toMatch(/\{.+\}/);
  });

  it('writer: lease in the release namespace under the name its RBAC allows, identity from the pod name', () => {
    const cfg = loadAppConfig(objs, 'rb', 'writer') as z.infer<typeof writerConfigSchema>;
    expect(cfg.leaderElection.namespace).toBe('registry-bridge');
    expect(cfg.leaderElection.identity).toBe('rb-registry-bridge-writer-7d9f8-abcde');
    const leaseRole = one(objs, 'Role', 'rb-registry-bridge-writer-leader-election', 'registry-bridge');
    const named = (leaseRole['rules'] as Array<{ resourceNames?: string[] }>).find((r) => r.resourceNames);
    expect(named?.resourceNames).toEqual([cfg.leaderElection.leaseName]);
    expect(cfg.kubernetes.kubeconfig).toBeUndefined(); // in-cluster ServiceAccount
  });
});

describe('mapping of values to app config', () => {
  it('all-apps: sentinel + TLS + password files, sources of every collector known to the writer with their kinds', () => {
    const objs = render({ valuesFiles: [CI_VALUES[0]] });
    const writer = loadAppConfig(objs, 'rb', 'writer') as z.infer<typeof writerConfigSchema>;
    const raw = parse(configText(objs, 'rb', 'writer'));
    expect(raw.redis).toEqual({
      mode: 'sentinel',
      sentinels: [{ host: 'redis-sentinel-0.redis', port: 26379 }, { host: 'redis-sentinel-1.redis', port: 26379 }],
      name: 'mymaster',
      sentinelPassword: { file: '/var/run/secrets/registry-bridge/redis/sentinel-password' },
      username: 'registry-bridge',
      password: { file: '/var/run/secrets/registry-bridge/redis/password' },
      prefix: '{rb}',
      connectTimeoutSeconds: 10,
      tls: {
        enabled: true,
        caFile: '/var/run/secrets/registry-bridge/redis-tls/ca.crt',
        certFile: '/var/run/secrets/registry-bridge/redis-tls/tls.crt',
        keyFile: '/var/run/secrets/registry-bridge/redis-tls/tls.key',
        serverName: 'redis.internal',
      },
    });
    // The secret was read from the mounted file, not inlined anywhere in the chart output.
    expect(writer.redis.password).toBe('not-a-real-secret');
    expect(JSON.stringify(objs)).not.toContain('not-a-real-secret');
    expect(Object.fromEntries(Object.entries(writer.sources).map(([k, v]) => [k, v.kind]))).toEqual({
      'consul-dc1': 'consul',
      'eureka-prod': 'eureka',
      'cloudmap-euw1': 'cloudmap',
      'legacy-dc': 'consul',
    });
    expect(writer.sources['eureka-prod'].endpointMode).toBe('workloadEntry');
    expect(writer.dashboard.enabled).toBe(true);
    expect(writer.dashboard.password).toBe('not-a-real-secret');
    expect(writer.deletion.gracePeriodSeconds).toBe(120);
    const eureka = loadAppConfig(objs, 'rb', 'collector-eureka') as z.infer<typeof collectorEurekaConfigSchema>;
    expect(eureka.leaseCheckSeconds).toBe(2);
    expect(eureka.sources[0].password).toBe('not-a-real-secret');
    // The log level comes from the config file of every app, not from the environment.
    for (const app of ['writer', 'collector-consul', 'collector-eureka', 'collector-cloudmap'] as const) expect(parse(configText(objs, 'rb', app)).log).toEqual({ level: 'info' });
    const consul = loadAppConfig(objs, 'rb', 'collector-consul') as z.infer<typeof collectorConsulConfigSchema>;
    expect(consul.readinessGraceSeconds).toBe(120);
    expect(consul.sources[0].token).toBe('not-a-real-secret');
  });

  it('cluster mode maps nodes and keeps the hash-tag prefix; standalone maps the URL', () => {
    const cluster = parse(configText(render({ valuesFiles: [CI_VALUES[1]] }), 'rb', 'writer')).redis;
    expect(cluster).toMatchObject({ mode: 'cluster', nodes: [{ host: 'redis-cluster-0', port: 6379 }, { host: 'redis-cluster-1', port: 6379 }], prefix: '{rb-cw}', tls: { enabled: true } });
    expect(cluster.url).toBeUndefined();
    const standalone = parse(configText(render({ values: { externalRedis: { url: 'rediss://redis.example:6380/2' } } }), 'rb', 'writer')).redis;
    expect(standalone).toMatchObject({ mode: 'standalone', url: 'rediss://redis.example:6380/2' });
    expect(standalone.password).toBeUndefined();
  });

  it('a writer-only source without a kind fails the render, naming the key', () => {
    expect(renderError({ values: { writer: { sources: { orphan: { namespace: 'x' } } } } })).toMatch(/writer\.sources\.orphan: kind is required/);
  });

  it('a typo in a collector\'s free-form config block is caught by the app schema (the chart passes it through)', () => {
    const objs = render({ values: { collectors: { consul: { config: { readinessGraceSecs: 5 } } } } });
    expect(() => loadAppConfig(objs, 'rb', 'collector-consul')).toThrow(ConfigError);
    expect(() => loadAppConfig(objs, 'rb', 'collector-consul')).toThrow(/readinessGraceSecs: unknown key/);
  });
});
