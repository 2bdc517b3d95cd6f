import { EventEmitter } from 'node:events';
import { KubeClient, KubeError, KubeObject } from './kube-client';

export interface LeaseElectorOptions {
  namespace: string;
  name: string;
  identity: string;
  leaseDurationSeconds: number;
  renewDeadlineSeconds: number;
  retryPeriodSeconds: number;
}

/** Lease times are MicroTime: the API server wants six fractional digits, Date gives three. */
export class MicroTime extends Date {
  override toISOString(): string {
    return super.toISOString().replace(/\.(\d{3})Z$/, '.$1000Z');
  }
}

interface LeaseObject extends KubeObject {
  spec: {
    holderIdentity?: string;
    leaseDurationSeconds?: number;
    acquireTime?: Date;
    renewTime?: Date;
    leaseTransitions?: number;
  };
}

/**
 * Active/standby through a coordination.k8s.io Lease, the way client-go's leader election does
 * it: a lease is taken over only after it has not changed for leaseDuration by our own clock,
 * and a leader that could not renew within renewDeadline stops acting before anyone can take it.
 */
export class LeaseElector extends EventEmitter {
  private leader = false;
  private lastRenew = 0;
  private observedRecord = '';
  private observedAt = 0;
  private timer?: NodeJS.Timeout;
  private stopped = true;
  private running?: Promise<void>;
  /** The lease as our last successful write left it: a leader renews from it without a GET. */
  private own?: LeaseObject;

  constructor(
    private readonly kube: KubeClient,
    readonly options: LeaseElectorOptions,
    private readonly now: () => number = () => Date.now(),
  ) {
    super();
    if (options.renewDeadlineSeconds >= options.leaseDurationSeconds) throw new Error('leaderElection.renewDeadlineSeconds must be shorter than leaseDurationSeconds');
    if (options.retryPeriodSeconds >= options.renewDeadlineSeconds) throw new Error('leaderElection.retryPeriodSeconds must be shorter than renewDeadlineSeconds');
  }

  /** True only while our last renewal is fresh: guard every write with it. */
  isLeader(): boolean {
    return this.leader && this.now() - this.lastRenew < this.options.renewDeadlineSeconds * 1000;
  }

  holder(): string | undefined {
    return this.observedRecord.split('|')[0] || undefined;
  }

  start(): void {
    if (!this.stopped) return;
    this.stopped = false;
    const loop = async () => {
      if (this.stopped) return;
      this.running = this.tick().catch((err) => void this.emit('error', err));
      await this.running;
      if (!this.stopped) this.timer = setTimeout(loop, this.options.retryPeriodSeconds * 1000 * (0.9 + Math.random() * 0.2));
    };
    void loop();
  }

  /** Stops; when leading, releases the lease so a standby takes over at once. */
  async stop(release = true): Promise<void> {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    await this.running?.catch(() => undefined);
    const wasLeader = this.leader;
    this.setLeader(false);
    if (release && wasLeader) {
      try {
        const lease = await this.read();
        if (lease && lease.spec.holderIdentity === this.options.identity) {
          lease.spec.holderIdentity = '';
          lease.spec.leaseDurationSeconds = 1;
          await this.kube.replace(lease);
        }
      } catch (err) {
        this.emit('error', err);
      }
    }
  }

  private setLeader(value: boolean): void {
    if (!value) this.own = undefined;
    if (value === this.leader) return;
    this.leader = value;
    this.emit(value ? 'started-leading' : 'stopped-leading');
  }

  private read(): Promise<LeaseObject | undefined> {
    return this.kube.get<LeaseObject>('coordination.k8s.io/v1', 'Lease', this.options.namespace, this.options.name);
  }

  private async tick(): Promise<void> {
    if (this.isLeader() && this.own && (await this.renewOwn())) return;
    const { identity, namespace, name, leaseDurationSeconds } = this.options;
    const now = this.now();
    let lease: LeaseObject | undefined;
    try {
      lease = await this.read();
    } catch (err) {
      this.checkDeadline();
      throw err;
    }
    if (!lease) {
      try {
        const created = await this.kube.create<LeaseObject>({
          apiVersion: 'coordination.k8s.io/v1',
          kind: 'Lease',
          metadata: { name, namespace },
          spec: { holderIdentity: identity, leaseDurationSeconds, acquireTime: new MicroTime(now), renewTime: new MicroTime(now), leaseTransitions: 0 },
        });
        this.renewedWith(created, now);
      } catch (err) {
        if (!(err instanceof KubeError && err.status === 409)) throw err;
      }
      return;
    }
    const holder = lease.spec.holderIdentity ?? '';
    const record = `${holder}|${lease.spec.renewTime ? new Date(lease.spec.renewTime).getTime() : 0}`;
    if (record !== this.observedRecord) {
      this.observedRecord = record;
      this.observedAt = now;
    }
    const duration = (lease.spec.leaseDurationSeconds ?? leaseDurationSeconds) * 1000;
    const expired = !holder || now - this.observedAt > duration;
    if (holder !== identity && !expired) {
      this.setLeader(false);
      return;
    }
    const takeover = holder !== identity;
    lease.spec.holderIdentity = identity;
    lease.spec.leaseDurationSeconds = leaseDurationSeconds;
    lease.spec.renewTime = new MicroTime(now);
    if (takeover) {
      lease.spec.acquireTime = new MicroTime(now);
      lease.spec.leaseTransitions = (lease.spec.leaseTransitions ?? 0) + 1;
    }
    try {
      this.renewedWith(await this.kube.replace(lease), now);
    } catch (err) {
      // 409: someone else wrote the lease first; we are not the leader this round.
      if (err instanceof KubeError && err.status === 409) {
        this.checkDeadline();
        if (takeover) this.setLeader(false);
        return;
      }
      this.checkDeadline();
      throw err;
    }
  }

  /**
   * The fast path, as client-go's: a leader updates the lease it last wrote (its resourceVersion
   * guards against anyone having written since), one request instead of a GET and an update.
   * False when that is not possible this round (a 409 or another error): the full path runs.
   */
  private async renewOwn(): Promise<boolean> {
    const now = this.now();
    const lease: LeaseObject = { ...this.own!, spec: { ...this.own!.spec, renewTime: new MicroTime(now) } };
    try {
      this.renewedWith(await this.kube.replace(lease), now);
      return true;
    } catch {
      this.own = undefined;
      return false;
    }
  }

  private renewedWith(updated: LeaseObject, now: number): void {
    this.observedRecord = `${this.options.identity}|${updated.spec.renewTime ? new Date(updated.spec.renewTime).getTime() : now}`;
    this.observedAt = now;
    this.renewed(now);
    this.own = updated;
  }

  private renewed(at: number): void {
    this.lastRenew = at;
    this.setLeader(true);
  }

  private checkDeadline(): void {
    if (this.leader && this.now() - this.lastRenew >= this.options.renewDeadlineSeconds * 1000) this.setLeader(false);
  }
}
