import { BeforeApplicationShutdown, Inject, Injectable, OnApplicationBootstrap } from '@nestjs/common';
import { APP_CONFIG } from '@registry-bridge/app-config';
import { KubeClient, LeaseElector } from '@registry-bridge/kube';
import { WriterConfig } from '@registry-bridge/config/writer';
import { hostname } from 'node:os';
import type { Logger } from 'pino';
import { KUBE, LOGGER } from './writer.tokens';

/** What runs only while this replica leads (LeaderDutiesService). */
export interface LeaderDuties {
  start(): Promise<void>;
  stop(): Promise<void>;
}

/** The writer's identity in the Lease (and in the Events it records). */
export function writerIdentity(cfg: Pick<WriterConfig, 'leaderElection'>): string {
  return cfg.leaderElection.identity ?? `${hostname()}-${process.pid}`;
}

/**
 * Active/standby through a Kubernetes Lease: whether this replica may write now, and the start and
 * stop of its duties as the lease comes and goes (at once when leader election is off).
 */
@Injectable()
export class LeadershipService implements OnApplicationBootstrap, BeforeApplicationShutdown {
  private readonly elector?: LeaseElector;
  private duties?: LeaderDuties;
  private leading = false;
  private stopping = false;

  constructor(
    @Inject(APP_CONFIG) cfg: WriterConfig,
    @Inject(KUBE) kube: KubeClient,
    @Inject(LOGGER) private readonly log: Logger,
  ) {
    const le = cfg.leaderElection;
    if (le.enabled) {
      this.elector = new LeaseElector(kube, {
        namespace: le.namespace,
        name: le.leaseName,
        identity: writerIdentity(cfg),
        leaseDurationSeconds: le.leaseDurationSeconds,
        renewDeadlineSeconds: le.renewDeadlineSeconds,
        retryPeriodSeconds: le.retryPeriodSeconds,
      });
    }
  }

  /** May this replica write now: it holds the lease (or needs none) and is not shutting down. */
  isLeader(): boolean {
    return !this.stopping && (this.elector ? this.elector.isLeader() : this.leading);
  }

  /** Its duties are running (between start and stop); a long wait gives up when they stop. */
  active(): boolean {
    return this.leading;
  }

  /** Who holds the lease, as the Lease says; null without leader election. */
  holder(): string | null {
    return this.elector?.holder() ?? null;
  }

  /** Registers what starts and stops with the lease; one set of duties per app. */
  attach(duties: LeaderDuties): void {
    this.duties = duties;
  }

  onApplicationBootstrap(): void {
    if (this.elector) {
      this.elector.on('started-leading', () => void this.startLeading());
      this.elector.on('stopped-leading', () => void this.stopLeading());
      this.elector.on('error', (err: Error) => this.log.warn({ err: err.message }, 'leader election'));
      this.elector.start();
    } else {
      void this.startLeading();
    }
  }

  /** Before the connections close: duties drain, then the lease is released for the standby. */
  async beforeApplicationShutdown(): Promise<void> {
    this.stopping = true;
    await this.stopLeading();
    await this.elector?.stop(true);
  }

  private async startLeading(): Promise<void> {
    if (this.leading || this.stopping) return;
    this.leading = true;
    this.log.info({ identity: this.elector?.options.identity }, 'started leading');
    await this.duties?.start();
  }

  private async stopLeading(): Promise<void> {
    if (!this.leading) return;
    this.leading = false;
    await this.duties?.stop();
    this.log.info('stopped leading');
  }
}
