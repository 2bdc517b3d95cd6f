import { loadPeersEnv } from '@registry-bridge/test-peers';
import { ChildProcess, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { stringify } from 'yaml';
import { APPS, WORKSPACE } from './chart';
import { usedMetrics } from './monitoring';

// Every metric the dashboard and the alerts read is exported by the running apps: the four
// built apps are started against the real peers and their /metrics are scraped.
jest.setTimeout(120_000);

const procs: ChildProcess[] = [];
const logs: string[] = [];
const exported = new Set<string>();

async function scrape(port: number): Promise<string | undefined> {
  try {
    const res = await fetch(`http://127.0.0.1:${port}/metrics`);
    return res.ok ? await res.text() : undefined;
  } catch {
    return undefined;
  }
}

beforeAll(async () => {
  const peers = await loadPeersEnv({ peers: ['redis', 'kube', 'consul', 'eureka', 'cloudMap'] });
  const id = randomBytes(3).toString('hex');
  const dir = mkdtempSync(join(tmpdir(), 'rb-monitoring-'));
  const redis = { url: peers.redisUrl, prefix: `{rbmon-${id}}` };
  const base = 19600 + Math.floor(Math.random() * 300);
  const configs: Record<(typeof APPS)[number], Record<string, unknown>> = {
    writer: {
      installation: `mon-${id}`,
      redis,
      kubernetes: { kubeconfig: peers.kube.adminKubeconfig },
      leaderElection: { namespace: 'registry-bridge', leaseName: `mon-${id}` },
      defaults: { namespace: 'registry-bridge' },
      sources: { [`consul-${id}`]: { kind: 'consul' }, [`eureka-${id}`]: { kind: 'eureka' }, [`cm-${id}`]: { kind: 'cloudmap' } },
    },
    'collector-consul': { redis, sources: [{ name: `consul-${id}`, address: peers.consul.addr }] },
    'collector-eureka': { redis, sources: [{ name: `eureka-${id}`, serviceUrls: [peers.eureka.url] }] },
    'collector-cloudmap': { redis, sources: [{ name: `cm-${id}`, region: peers.cloudMap.region, endpoint: peers.cloudMap.endpoint }] },
  };
  APPS.forEach((app, i) => {
    const main = join(WORKSPACE, 'dist/apps', app, 'main.js');
    if (!existsSync(main)) throw new Error(`${main} is missing: run \`npx nx run-many -t build\``);
    const file = join(dir, `${app}.yaml`);
    writeFileSync(file, stringify({ ...configs[app], http: { port: base + i, host: '127.0.0.1' } }));
    const proc = spawn(process.execPath, [main], {
      env: { ...process.env, RB_CONFIG_FILE: file, AWS_ACCESS_KEY_ID: peers.cloudMap.accessKeyId, AWS_SECRET_ACCESS_KEY: peers.cloudMap.secretAccessKey },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    proc.stdout?.on('data', (d: Buffer) => logs.push(`[${app}] ${d}`));
    proc.stderr?.on('data', (d: Buffer) => logs.push(`[${app}] ${d}`));
    procs.push(proc);
  });
  // Give each app time to construct its metrics and run a first cycle.
  const deadline = Date.now() + 60_000;
  for (let i = 0; i < APPS.length; i++) {
    let text: string | undefined;
    while (!(text = await scrape(base + i))) {
      if (Date.now() > deadline) {
        process.stderr.write(logs.slice(-30).join(''));
        throw new Error(`${APPS[i]} never served /metrics`);
      }
      await new Promise((r) => setTimeout(r, 250));
    }
    await new Promise((r) => setTimeout(r, 3000));
    text = (await scrape(base + i)) ?? text;
    for (const m of text.matchAll(/^# TYPE (registry_bridge_[a-z0-9_]+) /gm)) exported.add(m[1]);
  }
});

afterAll(async () => {
  for (const p of procs) p.kill('SIGTERM');
  const exited = (p: ChildProcess) => new Promise((r) => (p.exitCode !== null ? r(null) : p.once('exit', r)));
  const slow: string[] = [];
  await Promise.all(
    procs.map(async (p, i) => {
      const timer = setTimeout(() => (slow.push(APPS[i]), p.kill('SIGKILL')), 20_000);
      await exited(p);
      clearTimeout(timer);
    }),
  );
  // Every app drains and exits on SIGTERM (Kubernetes would SIGKILL it after the grace period).
  expect(slow).toEqual([]);
});

describe('metrics used by the dashboard and alerts', () => {
  it('are all exported by the running apps', () => {
    const { dashboard, alerts } = usedMetrics();
    const missing = [...new Set([...dashboard, ...alerts])].filter((m) => !exported.has(m)).sort();
    expect(missing).toEqual([]);
    expect(exported.size).toBeGreaterThan(30);
  });
});
