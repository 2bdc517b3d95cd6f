// One test's world: its own namespace (with the writer's least-privilege RBAC from deploy/),
// its own BullMQ prefix, the recorder, and the apps it starts; torn down whatever happens.
import { loadPeersEnv, PeerName, PeersEnv } from '@registry-bridge/test-peers';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { App, AppName, requireBuilt, startApp, WORKSPACE } from './apps';
import { KubeAdmin, KubeObj, WriteRecorder } from './kube';

export class Scenario {
  readonly id = `${Date.now().toString(36).slice(-4)}${randomBytes(2).toString('hex')}`;
  readonly ns: string;
  readonly prefix: string;
  peers!: PeersEnv;
  kube!: KubeAdmin;
  recorder!: WriteRecorder;
  readonly apps: App[] = [];
  private readonly cleanups: Array<() => Promise<unknown> | unknown> = [];

  constructor(readonly tag: string) {
    this.ns = `rb-f-${tag}-${this.id}`.slice(0, 63);
    this.prefix = `{rbf-${tag}-${this.id}}`;
  }

  async setUp(peers: PeerName[], apps: AppName[]): Promise<this> {
    requireBuilt(apps);
    this.peers = await loadPeersEnv({ peers: [...new Set<PeerName>(['redis', 'kube', ...peers])] });
    this.kube = new KubeAdmin(this.peers);
    await this.kube.writerNamespace(this.ns, this.peers.kube.writerUser, join(WORKSPACE, 'deploy/manifests/writer-rbac.yaml'));
    this.recorder = new WriteRecorder(this.kube, this.ns);
    await this.recorder.start();
    return this;
  }

  onCleanup(fn: () => Promise<unknown> | unknown): void {
    this.cleanups.push(fn);
  }

  /** A kubeconfig of the writer's identity, optionally pointed at another server (the fault proxy). */
  writerKubeconfig(server = this.peers.kube.server): string {
    const dir = mkdtempSync(join(tmpdir(), 'rb-faults-kube-'));
    const file = join(dir, 'writer.kubeconfig');
    const ca = readFileSync(this.peers.raw['RB_KUBE_CA_FILE']).toString('base64');
    writeFileSync(
      file,
      `apiVersion: v1\nkind: Config\nclusters:\n- name: c\n  cluster:\n    server: ${server}\n    certificate-authority-data: ${ca}\nusers:\n- name: w\n  user:\n    token: ${this.peers.raw['RB_KUBE_WRITER_TOKEN']}\ncontexts:\n- name: w\n  context: { cluster: c, user: w }\ncurrent-context: w\n`,
      { mode: 0o600 },
    );
    return file;
  }

  /** Writer config for this namespace: short lease, grace and resync so faults play out in seconds. */
  writerConfig(sources: Record<string, Record<string, unknown>>, over: Record<string, unknown> = {}): Record<string, unknown> {
    return {
      installation: 'faults',
      redis: { url: this.peers.redisUrl, prefix: this.prefix },
      kubernetes: { kubeconfig: this.writerKubeconfig(), qps: 50, burst: 100, maxAttempts: 4 },
      leaderElection: { namespace: this.ns, leaseName: 'writer', leaseDurationSeconds: 6, renewDeadlineSeconds: 4, retryPeriodSeconds: 1 },
      reconcile: { fullResyncSeconds: 10 },
      deletion: { gracePeriodSeconds: 2, maxDeletes: 2, maxDeletePercent: 0, windowSeconds: 120, sourceSilenceSeconds: 20 },
      defaults: { namespace: this.ns },
      sources,
      ...over,
    };
  }

  async app(name: AppName, cfg: Record<string, unknown>, env: NodeJS.ProcessEnv = {}): Promise<App> {
    const a = await startApp(name, cfg, env);
    this.apps.push(a);
    return a;
  }

  ses(): Promise<KubeObj[]> {
    return this.kube.list<KubeObj>('ServiceEntry', this.ns);
  }

  async seOf(service: string): Promise<KubeObj | undefined> {
    return (await this.ses()).find((o) => o.metadata.annotations?.['registry-bridge.io/service'] === service);
  }

  /** The apps' last log lines, for a failing assertion's context. */
  dumpLogs(): string {
    return this.apps.map((a) => `--- ${a.name}:${a.port}\n${a.tail(2500)}`).join('\n');
  }

  async tearDown(): Promise<void> {
    this.recorder?.stop();
    await Promise.all(this.apps.map((a) => a.stop('SIGKILL')));
    for (const c of this.cleanups.reverse()) await Promise.resolve(c()).catch(() => undefined);
    if (this.peers) {
      const redis = new Redis(this.peers.redisUrl, { maxRetriesPerRequest: 1 });
      const keys = await redis.keys(`${this.prefix}*`).catch(() => [] as string[]);
      for (let i = 0; i < keys.length; i += 500) await redis.del(...keys.slice(i, i + 500)).catch(() => undefined);
      redis.disconnect();
      await this.kube?.deleteNamespace(this.ns);
    }
  }
}

/** Prints the apps' logs when a test of the file failed (the assertion alone rarely says why). */
export function dumpOnFailure(get: () => Scenario | undefined): void {
  afterEach(() => {
    const s = expect.getState();
    if (s.assertionCalls !== s.numPassingAsserts || (s as { suppressedErrors?: unknown[] }).suppressedErrors?.length) {
      const sc = get();
      if (sc) process.stderr.write(`${sc.dumpLogs()}\n--- writes\n${sc.recorder?.summary()}\n`);
    }
  });
}
