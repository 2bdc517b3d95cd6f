// The product as deployed, on the real peers: the built writer and collectors as processes
// (dist/apps/*/main.js), each with its own config file, plus kubectl as the cluster admin.
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { Redis } from 'ioredis';
import { stringify } from 'yaml';
import { AppProcess, type PeersEnv, writeTempFile } from '@registry-bridge/test-peers';

export const WORKSPACE = resolve(__dirname, '../../../..');

export type AppName = 'writer' | 'collector-consul' | 'collector-eureka' | 'collector-cloudmap';

export type { AppProcess };

const mainOf = (app: AppName): string => join(WORKSPACE, `dist/apps/${app}/main.js`);

/** Fails with the command that builds what is missing. */
export function requireBuilt(apps: AppName[]): void {
  const missing = apps.filter((a) => !existsSync(mainOf(a)));
  if (missing.length) throw new Error(`${missing.map(mainOf).join(', ')} missing: run \`npx nx run-many -t build -p ${missing.join(' ')}\` (or \`npx nx int-test e2e-istio\`, which builds them)`);
}

/** Starts a built app with `config` (written as YAML) and waits for /health/live. */
export function startApp(name: AppName, port: number, config: Record<string, unknown>, env: NodeJS.ProcessEnv = {}): Promise<AppProcess> {
  const configFile = writeTempFile(`rb-e2e-istio-${name}-`, stringify({ ...config, http: { port, host: '127.0.0.1' } }));
  return new AppProcess({ name, main: mainOf(name), port, configFile, env }).start();
}

/** kubectl as the admin of the peers' API server; `input` goes to stdin (apply -f -). */
export function kubectl(peers: PeersEnv, args: string[], input?: string): Promise<string> {
  return new Promise((res, rej) => {
    const p = execFile('kubectl', ['--kubeconfig', peers.kube.adminKubeconfig, ...args], { maxBuffer: 256 << 20 }, (err, stdout, stderr) =>
      err ? rej(new Error(`kubectl ${args.join(' ')}: ${stderr || err.message}`)) : res(stdout),
    );
    if (input !== undefined) p.stdin?.end(input);
  });
}

export async function kubeApply(peers: PeersEnv, obj: unknown): Promise<void> {
  await kubectl(peers, ['apply', '-f', '-'], JSON.stringify(obj));
}

export async function kubeList<T = { metadata: { name: string; annotations?: Record<string, string> }; spec: Record<string, unknown> }>(peers: PeersEnv, kind: string, ns: string): Promise<T[]> {
  return (JSON.parse(await kubectl(peers, ['get', kind, '-n', ns, '-o', 'json'])) as { items: T[] }).items;
}

/**
 * Creates the namespace the writer writes to and the namespace of the pretend sidecar, with a
 * Sidecar resource that scopes it to the first, as an operator scopes a real one: the peers are
 * shared, and other pipelines may sync the same registry into their own namespaces.
 */
export async function meshNamespaces(peers: PeersEnv, ns: string, probeNs: string): Promise<void> {
  await kubectl(peers, ['create', 'namespace', ns]);
  await kubectl(peers, ['create', 'namespace', probeNs]);
  await kubeApply(peers, { apiVersion: 'networking.istio.io/v1', kind: 'Sidecar', metadata: { name: 'default', namespace: probeNs }, spec: { egress: [{ hosts: [`${ns}/*`] }] } });
}

/** Writer settings every e2e shares: the admin kubeconfig, a quick Lease, a short deletion grace. */
export function writerBase(peers: PeersEnv, installation: string, prefix: string, ns: string): Record<string, unknown> {
  return {
    installation: installation.slice(0, 63),
    redis: { url: peers.redisUrl, prefix },
    // the admin kubeconfig: least privilege is proven by the writer's and deploy's own specs
    kubernetes: { kubeconfig: peers.kube.adminKubeconfig },
    leaderElection: { namespace: ns, leaseName: 'writer', leaseDurationSeconds: 6, renewDeadlineSeconds: 4, retryPeriodSeconds: 1 },
    deletion: { gracePeriodSeconds: 2, sourceSilenceSeconds: 30 },
    defaults: { namespace: ns },
  };
}

/**
 * Drops the Redis keys of a test's prefix, the Istio objects in its namespaces, then the
 * namespaces. The objects go first: the peers run no controller-manager, so a deleted namespace
 * stays Terminating with its objects, and istiod would keep serving them.
 */
export async function cleanUp(peers: PeersEnv, prefix: string, namespaces: string[]): Promise<void> {
  const redis = new Redis(peers.redisUrl);
  const keys = await redis.keys(`${prefix}*`);
  if (keys.length) await redis.del(...keys);
  redis.disconnect();
  for (const ns of namespaces) await kubectl(peers, ['delete', 'serviceentries,workloadentries,sidecars', '--all', '-n', ns, '--wait=false']).catch(() => undefined);
  await kubectl(peers, ['delete', 'namespace', ...namespaces, '--wait=false']).catch(() => undefined);
}

/** After a failed test, prints the last log lines of the apps: the pipeline's side of the story. */
export function logsOnFailure(apps: () => Array<AppProcess | undefined>): void {
  afterEach(() => {
    const s = expect.getState();
    if (s.assertionCalls === s.numPassingAsserts) return;
    for (const a of apps()) if (a) process.stderr.write(`${a.name}:\n${a.logs.slice(-20).join('')}\n`);
  });
}

/** A port for a test's app, spread so parallel runs on this shared machine rarely collide. */
export const freePortBase = (): number => 20000 + Math.floor(Math.random() * 400) * 10;

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export async function until<T>(what: string, fn: () => Promise<T | undefined | false>, ms = 30000): Promise<T> {
  const t0 = Date.now();
  for (;;) {
    const v = await fn().catch(() => undefined);
    if (v) return v as T;
    if (Date.now() - t0 > ms) throw new Error(`timed out after ${ms} ms waiting for ${what}`);
    await sleep(200);
  }
}
