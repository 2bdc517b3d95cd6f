import { type AdminObject, KubeAdmin, loadPeersEnv, type PeersEnv, testWriterConfig, waitFor as sharedWaitFor, WRITER_MAIN, WRITER_RBAC } from '@registry-bridge/test-peers';
import { Redis } from 'ioredis';
import { type ChildProcess, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { stringify } from 'yaml';

/**
 * End-to-end helpers: the built collector and writer as processes, the real Eureka, Redis and
 * API server. The collector may not import a Kubernetes client, so reads of the API server go
 * through test-peers' KubeAdmin (plain HTTPS as the admin).
 */
export const WORKSPACE = resolve(__dirname, '../../../..');
export const COLLECTOR_MAIN = join(WORKSPACE, 'dist/apps/collector-eureka/main.js');
export { WRITER_MAIN };

/** The shared poller, at this harness's pace (the Eureka server is polled, not pushed). */
export const waitFor = <T>(what: string, fn: () => Promise<T | undefined | false>, timeoutMs = 30_000, everyMs = 200): Promise<T> =>
  sharedWaitFor(what, fn, timeoutMs, everyMs);

export type KubeObject = AdminObject;

export class E2eHarness {
  readonly id = randomBytes(3).toString('hex');
  readonly namespace = `rb-eureka-e2e-${this.id}`;
  readonly prefix = `{rbeu-${this.id}}`;
  readonly source = 'eureka-e2e';
  readonly appPrefix = `RBTE-${this.id}`.toUpperCase();
  readonly dir = mkdtempSync(join(tmpdir(), 'rb-eureka-e2e-'));
  peers!: PeersEnv;
  kube!: KubeAdmin;
  logs: string[] = [];
  private procs: ChildProcess[] = [];

  async setUp(): Promise<void> {
    for (const main of [COLLECTOR_MAIN, WRITER_MAIN]) {
      if (!existsSync(main)) throw new Error(`${main} is missing: run \`npx nx build collector-eureka\` and \`npx nx build writer\` first`);
    }
    this.peers = await loadPeersEnv({ peers: ['redis', 'kube', 'eureka'] });
    this.kube = KubeAdmin.forPeers(this.peers);
    // The writer runs with its least-privilege identity and the RBAC of deploy/manifests.
    await this.kube.writerNamespace(this.namespace, this.peers.kube.writerUser, WRITER_RBAC);
  }

  private writeConfig(name: string, cfg: object): string {
    const file = join(this.dir, `${name}-${randomBytes(2).toString('hex')}.yaml`);
    writeFileSync(file, stringify(cfg));
    return file;
  }

  writerConfig(): string {
    return this.writeConfig(
      'writer',
      testWriterConfig({
        peers: this.peers,
        namespace: this.namespace,
        prefix: this.prefix,
        installation: 'eureka-e2e',
        sources: { [this.source]: { kind: 'eureka' } },
        port: 0,
        overrides: {
          kubernetes: { kubeconfig: this.peers.kube.writerKubeconfig, qps: 50, burst: 100, maxAttempts: 3 },
          reconcile: { fullResyncSeconds: 5 },
          deletion: { gracePeriodSeconds: 3, maxDeletes: 5, maxDeletePercent: 0, windowSeconds: 60, sourceSilenceSeconds: 30 },
        },
      }),
    );
  }

  collectorConfig(serviceUrls: string[]): string {
    return this.writeConfig('collector', {
      redis: { url: this.peers.redisUrl, prefix: this.prefix },
      http: { port: 8080, host: '127.0.0.1' },
      collector: { heartbeatSeconds: 5, memberTtlSeconds: 3 },
      leaseCheckSeconds: 0.5,
      sources: [{ name: this.source, serviceUrls, pollIntervalSeconds: 1, timeoutSeconds: 2, emptyRegistryHoldSeconds: 2, apps: { allow: [`${this.appPrefix}-*`] } }],
    });
  }

  start(name: string, main: string, configFile: string, port: number): ChildProcess {
    const proc = spawn(process.execPath, [main], {
      env: { ...process.env, RB_CONFIG_FILE: configFile, RB__http__port: String(port), RB__log__level: 'info' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const tag = `[${name}:${port}]`;
    proc.stdout?.on('data', (d: Buffer) => this.logs.push(`${tag} ${d.toString()}`));
    proc.stderr?.on('data', (d: Buffer) => this.logs.push(`${tag} ${d.toString()}`));
    this.procs.push(proc);
    return proc;
  }

  async stop(proc: ChildProcess, signal: NodeJS.Signals = 'SIGTERM'): Promise<void> {
    if (proc.exitCode !== null || proc.signalCode !== null) return;
    const exited = new Promise((r) => proc.once('exit', r));
    proc.kill(signal);
    await Promise.race([exited, new Promise((r) => setTimeout(r, 15_000))]);
  }

  async http(port: number, path: string): Promise<{ status: number; text: string }> {
    const res = await fetch(`http://127.0.0.1:${port}${path}`);
    return { status: res.status, text: await res.text() };
  }

  async serviceEntries(): Promise<KubeObject[]> {
    return this.kube.list('ServiceEntry', this.namespace);
  }

  async serviceEntryFor(service: string): Promise<KubeObject | undefined> {
    return (await this.serviceEntries()).find((o) => o.metadata.annotations?.['registry-bridge.io/service'] === service);
  }

  async eureka(method: string, path: string, body?: unknown): Promise<number> {
    const res = await fetch(`${this.peers.eureka.url}/apps/${path}`, {
      method,
      headers: { 'Content-Type': 'application/json' },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    await res.arrayBuffer();
    return res.status;
  }

  register(app: string, id: string, ip: string, status = 'UP'): Promise<number> {
    return this.eureka('POST', app, {
      instance: {
        instanceId: id,
        hostName: `${id}.test.local`,
        app,
        ipAddr: ip,
        status,
        port: { $: 8080, '@enabled': 'true' },
        vipAddress: app.toLowerCase(),
        dataCenterInfo: { '@class': 'com.netflix.appinfo.InstanceInfo$DefaultDataCenterInfo', name: 'MyOwn' },
        metadata: { version: 'v1' },
      },
    });
  }

  async tearDown(): Promise<void> {
    for (const p of this.procs) await this.stop(p, 'SIGKILL');
    await this.kube?.deleteNamespace(this.namespace).catch(() => undefined);
    if (this.peers) {
      // The queue and membership keys of this run only (its own prefix).
      const redis = new Redis(this.peers.redisUrl, { maxRetriesPerRequest: 2 });
      const keys = await redis.keys(`${this.prefix}*`);
      if (keys.length) await redis.del(...keys);
      redis.disconnect();
    }
  }
}
