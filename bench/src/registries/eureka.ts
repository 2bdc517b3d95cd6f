// Eureka through its REST API, the way a Java client registers: one POST per instance, with a
// long lease so the bench needs no heartbeats (eviction would otherwise remove idle instances).
import { pool } from '../lib/util';
import { address, ChangeType, InstanceModel, RegistryDriver } from './registry';

export class EurekaDriver implements RegistryDriver {
  readonly kind = 'eureka' as const;
  readonly changeTypes: ChangeType[] = ['health', 'deregister', 'register', 'metadata'];
  readonly spareInstances = 0;
  readonly rolling = 'metadata' as const;
  private services = 0;
  private instances = 0;

  constructor(
    private readonly url: string,
    readonly source: string,
    private readonly prefix: string,
    readonly label: string,
    private readonly tuning: Record<string, unknown> = {},
  ) {}

  private app = (s: number) => `${this.prefix}-S${s}`.toUpperCase();
  private id = (s: number, i: number) => `${this.prefix}-s${s}-i${i}`;

  private async req(method: string, path: string, body?: unknown): Promise<void> {
    for (let attempt = 1; ; attempt++) {
      const r = await fetch(`${this.url}${path}`, { method, headers: { 'content-type': 'application/json', accept: 'application/json' }, body: body === undefined ? undefined : JSON.stringify(body) }).catch((e: Error) => e);
      if (!(r instanceof Error) && r.status < 300) return;
      // 404 on delete: already gone
      if (!(r instanceof Error) && r.status === 404 && method === 'DELETE') return;
      if (attempt >= 3) throw new Error(`eureka ${method} ${path}: ${r instanceof Error ? r.message : `HTTP ${r.status}`}`);
    }
  }

  private body(s: number, i: number, m: InstanceModel) {
    return {
      instance: {
        instanceId: this.id(s, i),
        hostName: `${this.id(s, i)}.bench.internal`,
        app: this.app(s),
        ipAddr: address(s, i),
        vipAddress: this.app(s).toLowerCase(),
        status: 'UP',
        port: { $: 8080, '@enabled': 'true' },
        securePort: { $: 8443, '@enabled': 'false' },
        dataCenterInfo: { '@class': 'com.netflix.appinfo.InstanceInfo$DefaultDataCenterInfo', name: 'MyOwn' },
        leaseInfo: { renewalIntervalInSecs: 30, durationInSecs: 7200 },
        metadata: { version: `v${m.version}` },
      },
    };
  }

  async seed(services: number, instances: number, onProgress?: (done: number) => void): Promise<void> {
    this.services = services;
    this.instances = instances;
    const all: Array<[number, number]> = [];
    for (let s = 0; s < services; s++) for (let i = 0; i < instances; i++) all.push([s, i]);
    let done = 0;
    await pool(all, 16, async ([s, i]) => {
      await this.req('POST', `/apps/${this.app(s)}`, this.body(s, i, { present: true, healthy: true, version: 1 }));
      if (++done % 1000 === 0) onProgress?.(done);
    });
  }

  async apply(s: number, i: number, type: ChangeType, m: InstanceModel): Promise<void> {
    const path = `/apps/${this.app(s)}/${this.id(s, i)}`;
    if (type === 'deregister') await this.req('DELETE', path);
    else if (type === 'register') await this.req('POST', `/apps/${this.app(s)}`, this.body(s, i, m));
    else if (type === 'health') await this.req('PUT', `${path}/status?value=${m.healthy ? 'UP' : 'DOWN'}`);
    else await this.req('PUT', `${path}/metadata?version=v${m.version}`);
  }

  // A heartbeat and an identical re-registration: the latter replays the instance in the delta.
  async noop(s: number, model: InstanceModel[]): Promise<void> {
    const i = model.findIndex((m) => m.present && m.healthy);
    if (i < 0) return;
    await this.req('PUT', `/apps/${this.app(s)}/${this.id(s, i)}`);
    await this.req('POST', `/apps/${this.app(s)}`, this.body(s, i, model[i]));
  }

  async cleanup(): Promise<void> {
    const all: Array<[number, number]> = [];
    for (let s = 0; s < this.services; s++) for (let i = 0; i < this.instances; i++) all.push([s, i]);
    await pool(all, 16, ([s, i]) => this.req('DELETE', `/apps/${this.app(s)}/${this.id(s, i)}`).catch(() => undefined));
  }

  collectorApp() {
    return 'collector-eureka' as const;
  }

  collectorConfig(redis: Record<string, unknown>): Record<string, unknown> {
    return { redis, sources: [{ name: this.source, serviceUrls: [this.url], apps: { allow: [`${this.prefix}-*`] }, ...this.tuning }] };
  }

  writerSource() {
    return { kind: 'eureka' };
  }
}
