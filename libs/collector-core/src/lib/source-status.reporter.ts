import { Logger } from '@nestjs/common';
import { LIMITS, RegistryKind } from '@registry-bridge/contract';
import type { RecordPort, SourceStatusUpdate } from '@registry-bridge/source-kit';
import { CollectorMetrics } from './collector-metrics';

/** The producer surface the reporter needs. */
export type StatusProducer = Pick<RecordPort, 'sourceStatus'>;

interface SourceState extends SourceStatusUpdate {
  lastSuccessAt?: Date;
  /** What the last status sent said (reachable, error, conditions) and when; unset until one was sent. */
  sent?: string;
  sentAt?: number;
}

function said(update: SourceStatusUpdate): string {
  return JSON.stringify([update.reachable, update.error ?? '', update.conditions ?? {}]);
}

/**
 * Tells the writer how each source is doing, and keeps telling it: the latest status per
 * source is re-sent every `heartbeatSeconds`, so the writer can tell a silent (dead)
 * collector from a quiet registry. A collector that polls often reports with `reportChange`, which
 * sends only what changed plus a heartbeat, so a 1 s poll does not cost an ingest job a second.
 */
export class SourceStatusReporter {
  private readonly states = new Map<string, SourceState>();
  private timer?: NodeJS.Timeout;
  private readonly log = new Logger(SourceStatusReporter.name);

  constructor(
    private readonly producer: StatusProducer,
    private readonly kind: RegistryKind,
    readonly heartbeatSeconds = 10,
    private readonly metrics?: CollectorMetrics,
    private readonly now: () => Date = () => new Date(),
  ) {}

  /** Records the status and sends it. */
  async report(source: string, update: SourceStatusUpdate): Promise<void> {
    await this.send(source, this.record(source, update));
  }

  /**
   * Records the status; sends it only when it differs from the last one sent or that was a
   * heartbeat ago. A failed send leaves the last one sent as it was, so the next report tries again.
   */
  async reportChange(source: string, update: SourceStatusUpdate): Promise<void> {
    const state = this.record(source, update);
    if (state.sent === said(update) && !this.heartbeatDue(state)) return;
    await this.send(source, state);
  }

  /** Re-sends one source's latest status if a heartbeat is due (for collectors that poll slower than it). */
  async resendIfDue(source: string): Promise<void> {
    const state = this.states.get(source);
    if (state && this.heartbeatDue(state)) await this.send(source, state);
  }

  /** Drops a source's status, so nothing stale is re-sent for it (a replica that stood down). */
  forget(source: string): void {
    this.states.delete(source);
  }

  lastSuccessAt(source: string): Date | undefined {
    return this.states.get(source)?.lastSuccessAt;
  }

  /** Ready when the source was read successfully within the last `graceSeconds`. */
  isReady(source: string, graceSeconds: number): boolean {
    const last = this.lastSuccessAt(source);
    return last !== undefined && this.now().getTime() - last.getTime() <= graceSeconds * 1000;
  }

  sources(): string[] {
    return [...this.states.keys()];
  }

  start(): void {
    if (this.timer || this.heartbeatSeconds <= 0) return;
    this.timer = setInterval(() => void this.resendAll(), this.heartbeatSeconds * 1000);
    this.timer.unref();
  }

  stop(): void {
    clearInterval(this.timer);
    this.timer = undefined;
  }

  /** Re-sends the latest status of every source (what the heartbeat timer does). */
  async resendAll(): Promise<void> {
    await Promise.all(
      [...this.states].map(([source, state]) =>
        this.send(source, state).catch((err) => this.log.warn(`status heartbeat for ${source} failed: ${(err as Error).message}`)),
      ),
    );
  }

  private record(source: string, update: SourceStatusUpdate): SourceState {
    const previous = this.states.get(source);
    const at = this.now();
    const state: SourceState = { ...update, lastSuccessAt: update.reachable ? at : previous?.lastSuccessAt, sent: previous?.sent, sentAt: previous?.sentAt };
    this.states.set(source, state);
    if (update.reachable) this.metrics?.success(source, at);
    return state;
  }

  private heartbeatDue(state: SourceState): boolean {
    return state.sentAt === undefined || this.now().getTime() - state.sentAt >= this.heartbeatSeconds * 1000;
  }

  private async send(source: string, state: SourceState): Promise<void> {
    const at = this.now();
    await this.producer.sourceStatus({
      source: { name: source, kind: this.kind },
      reachable: state.reachable,
      ...(state.lastSuccessAt && { lastSuccessAt: state.lastSuccessAt.toISOString() }),
      // Registry errors can be long (HTML error pages); the contract bounds them.
      ...(state.error && { error: state.error.slice(0, LIMITS.error) }),
      conditions: state.conditions ?? {},
      observedAt: at.toISOString(),
    });
    state.sent = said(state);
    state.sentAt = at.getTime();
  }
}
