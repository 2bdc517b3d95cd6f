import { QUEUES, RecordProducer, ServiceRecordInput } from '@registry-bridge/contract';
import { KubeClient, KubeObject } from '@registry-bridge/kube';
import { KubeAdmin, loadPeersEnv, PeersEnv } from '@registry-bridge/test-peers';
import { Queue } from 'bullmq';
import { ChildProcess, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { Redis } from 'ioredis';
import { stringify } from 'yaml';

/** Helpers for the writer's integration tests: real Redis, real API server, the built writer as a process. */
export const WORKSPACE = resolve(__dirname, '../../../..');
export const WRITER_MAIN = join(WORKSPACE, 'dist/apps/writer/main.js');

export { waitFor } from '@registry-bridge/test-peers';

export class WriterHarness {
  readonly id = randomBytes(3).toString('hex');
  readonly namespace = `rb-it-${this.id}`;
  readonly prefix = `{rbit-${this.id}}`;
  readonly dir = mkdtempSync(join(tmpdir(), 'rb-writer-it-'));
  peers!: PeersEnv;
  admin!: KubeClient;
  redis!: Redis;
  queue!: Queue;
  producer!: RecordProducer;
  private procs: ChildProcess[] = [];
  logs: string[] = [];
  readonly dashboardPassword = randomBytes(12).toString('hex');

  async setUp(): Promise<void> {
    if (!existsSync(WRITER_MAIN)) throw new Error(`${WRITER_MAIN} is missing: run \`npx nx build writer\` first`);
    this.peers = await loadPeersEnv({ peers: ['redis', 'kube'] });
    this.admin = KubeClient.fromOptions({ kubeconfig: this.peers.kube.adminKubeconfig, qps: 100, burst: 100, maxAttempts: 3, fieldManager: 'rb-test' });
    // The writer runs with the least-privilege identity and exactly the RBAC of deploy/manifests.
    await KubeAdmin.forPeers(this.peers).writerNamespace(this.namespace, this.peers.kube.writerUser, join(WORKSPACE, 'deploy/manifests/writer-rbac.yaml'));
    this.redis = new Redis(this.peers.redisUrl, { maxRetriesPerRequest: null });
    this.queue = new Queue(QUEUES.ingest, { connection: this.redis, prefix: this.prefix });
    this.producer = new RecordProducer(this.queue);
  }

  config(over: Record<string, unknown> = {}): string {
    const cfg = {
      installation: 'it',
      http: { port: 0, host: '127.0.0.1' },
      redis: { url: this.peers.redisUrl, prefix: this.prefix },
      kubernetes: { kubeconfig: this.peers.kube.writerKubeconfig, qps: 50, burst: 100, maxAttempts: 3 },
      leaderElection: { namespace: this.namespace, leaseName: 'writer', leaseDurationSeconds: 6, renewDeadlineSeconds: 4, retryPeriodSeconds: 1 },
      reconcile: { fullResyncSeconds: 5 },
      dashboard: { enabled: true, password: { env: 'RB_TEST_DASHBOARD_PASSWORD' } },
      deletion: { gracePeriodSeconds: 2, maxDeletes: 2, maxDeletePercent: 0, windowSeconds: 60, sourceSilenceSeconds: 30 },
      defaults: { namespace: this.namespace },
      sources: {
        'consul-dc1': { kind: 'consul' },
        'eureka-a': { kind: 'eureka', endpointMode: 'workloadEntry' },
      },
      ...over,
    };
    const file = join(this.dir, `writer-${randomBytes(2).toString('hex')}.yaml`);
    writeFileSync(file, stringify(cfg));
    return file;
  }

  startWriter(configFile: string, port: number): { proc: ChildProcess; port: number } {
    const proc = spawn(process.execPath, [WRITER_MAIN], {
      env: { ...process.env, RB_CONFIG_FILE: configFile, RB__http__port: String(port), RB__log__level: 'info', RB_TEST_DASHBOARD_PASSWORD: this.dashboardPassword },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const tag = `[writer:${port}]`;
    proc.stdout?.on('data', (d: Buffer) => this.logs.push(`${tag} ${d.toString()}`));
    proc.stderr?.on('data', (d: Buffer) => this.logs.push(`${tag} ${d.toString()}`));
    this.procs.push(proc);
    return { proc, port };
  }

  async stopWriter(proc: ChildProcess, signal: NodeJS.Signals = 'SIGTERM'): Promise<void> {
    if (proc.exitCode !== null) return;
    const exited = new Promise((r) => proc.once('exit', r));
    proc.kill(signal);
    await Promise.race([exited, new Promise((r) => setTimeout(r, 15_000))]);
  }

  async http<T = unknown>(port: number, path: string): Promise<{ status: number; body: T }> {
    const res = await fetch(`http://127.0.0.1:${port}${path}`);
    const text = await res.text();
    let body: unknown = text;
    try {
      body = JSON.parse(text);
    } catch {
      /* metrics are text */
    }
    return { status: res.status, body: body as T };
  }

  se(name: string): Promise<KubeObject | undefined> {
    return this.admin.get<KubeObject>('networking.istio.io/v1', 'ServiceEntry', this.namespace, name);
  }

  async ses(): Promise<KubeObject[]> {
    return this.admin.list<KubeObject>('networking.istio.io/v1', 'ServiceEntry', this.namespace);
  }

  async wes(): Promise<KubeObject[]> {
    return this.admin.list<KubeObject>('networking.istio.io/v1', 'WorkloadEntry', this.namespace);
  }

  async events(): Promise<Array<KubeObject & { involvedObject: { name: string }; reason: string; message: string; type: string }>> {
    return this.admin.list('v1', 'Event', this.namespace);
  }

  async seByService(service: string): Promise<KubeObject | undefined> {
    return (await this.ses()).find((o) => o.metadata.annotations?.['registry-bridge.io/service'] === service);
  }

  status(source: string, reachable = true) {
    return this.producer.sourceStatus({ source: { name: source, kind: source.startsWith('consul') ? 'consul' : 'eureka' }, reachable, observedAt: new Date().toISOString() });
  }

  async tearDown(): Promise<void> {
    for (const p of this.procs) await this.stopWriter(p, 'SIGKILL');
    await this.queue?.close();
    if (this.redis) {
      const keys = await this.redis.keys(`${this.prefix}*`);
      if (keys.length) await this.redis.del(...keys);
      this.redis.disconnect();
    }
    await this.admin?.delete('v1', 'Namespace', '', this.namespace).catch(() => undefined);
  }
}

export function consulRecord(service: string, revision: number, endpoints: ServiceRecordInput['endpoints'], over: Partial<ServiceRecordInput> = {}): ServiceRecordInput {
  return {
    source: { name: 'consul-dc1', kind: 'consul' },
    service,
    ports: [{ name: 'http', number: 8080, protocol: 'HTTP' }],
    endpoints,
    revision,
    observedAt: new Date().toISOString(),
    ...over,
  };
}
