import { Logger } from '@nestjs/common';
import { LIMITS, RegistryKind } from '@registry-bridge/contract';
import { CollectorMetrics } from './collector-metrics';

export interface SourceStatusUpdate {
  reachable: boolean;
  error?: string;
  conditions?: Record<string, boolean | string | number>;
}

/** The producer surface the reporter needs. */
export interface StatusProducer {
  sourceStatus(msg: {
    source: { name: string; kind: RegistryKind };
    reachable: boolean;
    lastSuccessAt?: string;
    error?: string;
    conditions?: Record<string, boolean | string | number>;
    observedAt: string;
  }): Promise<unknown>;
}

interface SourceState extends SourceStatusUpdate {
  lastSuccessAt?: Date;
}

/**
 * Tells the writer how each source is doing, and keeps telling it: the latest status per
 * source is re-sent every `heartbeatSeconds`, so the writer can tell a silent (dead)
 * collector from a quiet registry.
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

  async report(source: string, update: SourceStatusUpdate): Promise<void> {
    const previous = this.states.get(source);
    const at = this.now();
    const state: SourceState = { ...update, lastSuccessAt: update.reachable ? at : previous?.lastSuccessAt };
    this.states.set(source, state);
    if (update.reachable) this.metrics?.success(source, at);
    await this.send(source, state);
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

  private send(source: string, state: SourceState): Promise<unknown> {
    return this.producer.sourceStatus({
      source: { name: source, kind: this.kind },
      reachable: state.reachable,
      ...(state.lastSuccessAt && { lastSuccessAt: state.lastSuccessAt.toISOString() }),
      // Registry errors can be long (HTML error pages); the contract bounds them.
      ...(state.error && { error: state.error.slice(0, LIMITS.error) }),
      conditions: state.conditions ?? {},
      observedAt: this.now().toISOString(),
    });
  }
}
