// Consul through its transaction API: 64 catalog operations per request, on synthetic nodes (the
// dev agent's anti-entropy would remove catalog entries on its own node). Every instance has a
// service check, as an agent registration has, so health and membership move the health index.
import { pool } from '../lib/util';
import { address, ChangeType, InstanceModel, RegistryDriver } from './registry';

type Op = Record<string, unknown>;

export class ConsulDriver implements RegistryDriver {
  readonly kind = 'consul' as const;
  readonly label = 'consul';
  readonly changeTypes: ChangeType[] = ['health', 'deregister', 'register', 'metadata'];
  readonly spareInstances = 0;
  readonly rolling = 'metadata' as const;
  private instancesPerService = 10;
  private services = 0;

  constructor(
    private readonly addr: string,
    readonly source: string,
    private readonly prefix: string,
    private readonly tuning: Record<string, unknown> = {},
  ) {}

  private node = (i: number) => `${this.prefix}-n${i}`;
  private svc = (s: number) => `${this.prefix}-s${s}`;
  private id = (s: number, i: number) => `${this.prefix}-s${s}-i${i}`;

  private async txn(ops: Op[]): Promise<void> {
    const r = await fetch(`${this.addr}/v1/txn`, { method: 'PUT', body: JSON.stringify(ops) });
    if (!r.ok) throw new Error(`consul txn: HTTP ${r.status} ${(await r.text()).slice(0, 300)}`);
  }

  private serviceOps(s: number, i: number, m: InstanceModel): Op[] {
    const ops: Op[] = [
      { Service: { Verb: 'set', Node: this.node(i), Service: { ID: this.id(s, i), Service: this.svc(s), Address: address(s, i), Port: 8080, Meta: { protocol: 'http', version: `v${m.version}` } } } },
    ];
    ops.push(this.checkOp(s, i, m));
    return ops;
  }

  // The check's output carries the version, as an agent re-registration resets its checks.
  private checkOp(s: number, i: number, m: InstanceModel, output = `v${m.version}`): Op {
    return { Check: { Verb: 'set', Check: { Node: this.node(i), CheckID: `${this.id(s, i)}-c`, Name: 'alive', Status: m.healthy ? 'passing' : 'critical', ServiceID: this.id(s, i), Output: output } } };
  }

  async seed(services: number, instances: number, onProgress?: (done: number) => void): Promise<void> {
    this.instancesPerService = instances;
    this.services = services;
    await this.txn(Array.from({ length: instances }, (_, i) => ({ Node: { Verb: 'set', Node: { Node: this.node(i), Address: `10.99.0.${i + 1}` } } })));
    const ops: Op[] = [];
    for (let s = 0; s < services; s++) for (let i = 0; i < instances; i++) ops.push(...this.serviceOps(s, i, { present: true, healthy: true, version: 1 }));
    const batches: Op[][] = [];
    for (let k = 0; k < ops.length; k += 64) batches.push(ops.slice(k, k + 64));
    let done = 0;
    await pool(batches, 4, async (b) => {
      await this.txn(b);
      const before = done;
      done += b.length / 2;
      if (Math.floor(done / 5000) > Math.floor(before / 5000)) onProgress?.(done);
    });
  }

  async apply(s: number, i: number, type: ChangeType, m: InstanceModel): Promise<void> {
    if (type === 'deregister') await this.txn([{ Service: { Verb: 'delete', Node: this.node(i), Service: { ID: this.id(s, i), Service: this.svc(s) } } }]);
    else if (type === 'health') await this.txn([this.checkOp(s, i, m)]);
    else await this.txn(this.serviceOps(s, i, m));
  }

  // Check output changes bump the health index of the service without changing anything that is synced.
  async noop(s: number, model: InstanceModel[]): Promise<void> {
    const i = model.findIndex((m) => m.present);
    if (i >= 0) await this.txn([this.checkOp(s, i, model[i], `v${model[i].version} probe ${Date.now()}`)]);
  }

  async cleanup(): Promise<void> {
    await this.txn(Array.from({ length: this.instancesPerService }, (_, i) => ({ Node: { Verb: 'delete', Node: { Node: this.node(i) } } }))).catch(() => undefined);
  }

  collectorApp() {
    return 'collector-consul' as const;
  }

  collectorConfig(redis: Record<string, unknown>): Record<string, unknown> {
    return { redis, sources: [{ name: this.source, address: this.addr, filters: { allow: [`${this.prefix}-*`] }, ...this.tuning }] };
  }

  writerSource() {
    return { kind: 'consul' };
  }
}
