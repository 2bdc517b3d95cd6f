import { Injectable } from '@nestjs/common';

export type ReadinessResult = boolean | { ready: boolean; detail?: string };
export type ReadinessCheck = () => ReadinessResult | Promise<ReadinessResult>;

/**
 * Per-source readiness checks that `/health/ready` evaluates next to the Redis PING.
 * A collector registers one per configured source (typically `reporter.isReady(source, grace)`).
 */
@Injectable()
export class CollectorReadiness {
  private readonly checks = new Map<string, ReadinessCheck>();

  register(name: string, check: ReadinessCheck): void {
    this.checks.set(name, check);
  }

  unregister(name: string): void {
    this.checks.delete(name);
  }

  names(): string[] {
    return [...this.checks.keys()];
  }

  async evaluate(): Promise<Array<{ name: string; ready: boolean; detail?: string }>> {
    return Promise.all(
      [...this.checks].map(async ([name, check]) => {
        try {
          const result = await check();
          return typeof result === 'boolean' ? { name, ready: result } : { name, ...result };
        } catch (err) {
          return { name, ready: false, detail: (err as Error).message };
        }
      }),
    );
  }
}
