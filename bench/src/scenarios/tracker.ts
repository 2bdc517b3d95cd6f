// Follows the API server with a watch and matches what it holds against what the harness did to
// the registry: a change is propagated when its ServiceEntry shows the predicted endpoints.
import { KubeAdmin, SeObject, seSignature, WatchEvent } from '../lib/kube';
import { nowMs, until } from '../lib/util';
import { ChangeType, InstanceModel, modelSignature, RegistryDriver, serviceIndex } from '../registries/registry';

interface Pending {
  type: ChangeType;
  expected: string;
  sentAt: number;
  ackAt?: number;
  seenAt?: number;
}

export interface Sample {
  type: ChangeType;
  ms: number;
}

export class Tracker {
  readonly model: InstanceModel[][];
  private readonly current = new Map<number, string>();
  private readonly pending = new Map<number, Pending>();
  readonly samples: Sample[] = [];
  /** Watch events in the namespace: every one is an object that changed at the API server. */
  events = 0;
  private stopWatch?: () => void;
  private rr = 0;

  constructor(
    private readonly kube: KubeAdmin,
    private readonly ns: string,
    readonly services: number,
    readonly instances: number,
    spare = 0,
  ) {
    this.model = Array.from({ length: services }, () => Array.from({ length: instances + spare }, (_, i) => ({ present: i < instances, healthy: true, version: 1 })));
  }

  async start(): Promise<void> {
    const { items, resourceVersion } = await this.kube.listServiceEntries(this.ns);
    for (const o of items) this.observe(o, nowMs());
    this.stopWatch = this.kube.watchServiceEntries(this.ns, resourceVersion, (e) => this.onEvent(e));
  }

  stop(): void {
    this.stopWatch?.();
  }

  private onEvent(e: WatchEvent): void {
    this.events += 1;
    const s = serviceIndex(e.obj);
    if (s === undefined) return;
    if (e.type === 'DELETED') {
      this.current.delete(s);
      return;
    }
    this.observe(e.obj, e.at);
  }

  private observe(obj: SeObject, at: number): void {
    const s = serviceIndex(obj);
    if (s === undefined) return;
    const sig = seSignature(obj);
    this.current.set(s, sig);
    const p = this.pending.get(s);
    if (p && !p.seenAt && sig === p.expected) {
      p.seenAt = at;
      this.settle(s, p);
    }
  }

  private settle(s: number, p: Pending): void {
    if (p.seenAt === undefined || p.ackAt === undefined) return;
    // the API server may show the change before the registry's answer reached us: count it as 0
    this.samples.push({ type: p.type, ms: Math.max(0, p.seenAt - p.ackAt) });
    this.pending.delete(s);
  }

  /** Services whose ServiceEntry matches the model. */
  inSync(): number {
    let n = 0;
    for (let s = 0; s < this.services; s++) if (this.current.get(s) === modelSignature(s, this.model[s])) n++;
    return n;
  }

  async waitInSync(ms: number): Promise<number> {
    const t0 = nowMs();
    await until(`${this.services} ServiceEntries in sync`, () => this.inSync() === this.services, ms, 100);
    return nowMs() - t0;
  }

  get pendingCount(): number {
    return this.pending.size;
  }

  /** Picks a service with no change in flight and a change that moves its endpoints, and applies it. */
  async change(driver: RegistryDriver, types: ChangeType[] = driver.changeTypes): Promise<boolean> {
    let s = -1;
    for (let tries = 0; tries < 50; tries++) {
      const c = Math.floor(Math.random() * this.services);
      if (!this.pending.has(c)) {
        s = c;
        break;
      }
    }
    if (s < 0) return false;
    const type = types[this.rr++ % types.length];
    const m = this.model[s];
    const pickIdx = (pred: (x: InstanceModel) => boolean) => {
      const idx = m.map((x, i) => (pred(x) ? i : -1)).filter((i) => i >= 0);
      return idx.length ? idx[Math.floor(Math.random() * idx.length)] : -1;
    };
    let i: number;
    let t: ChangeType = type;
    if (type === 'register') {
      i = pickIdx((x) => !x.present);
      if (i < 0) {
        t = 'deregister';
        i = pickIdx((x) => x.present && x.healthy);
      }
    } else if (type === 'health') i = pickIdx((x) => x.present);
    else i = pickIdx((x) => x.present && x.healthy);
    if (i < 0) return false;
    const inst = m[i];
    if (t === 'register') Object.assign(inst, { present: true, healthy: true });
    else if (t === 'deregister') inst.present = false;
    else if (t === 'health') inst.healthy = !inst.healthy;
    else inst.version += 1;
    const p: Pending = { type: t, expected: modelSignature(s, m), sentAt: nowMs() };
    this.pending.set(s, p);
    await driver.apply(s, i, t, inst);
    p.ackAt = nowMs();
    this.settle(s, p);
    return true;
  }

  /** Changes still not seen: reported as lost (and excluded from the percentiles). */
  dropPending(): number {
    const n = this.pending.size;
    this.pending.clear();
    return n;
  }

  async waitPending(ms: number): Promise<void> {
    const t0 = Date.now();
    while (this.pending.size && Date.now() - t0 < ms) await new Promise((r) => setTimeout(r, 100));
  }
}
