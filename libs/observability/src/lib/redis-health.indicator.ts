import { Injectable, Module } from '@nestjs/common';
import { HealthIndicatorService, TerminusModule } from '@nestjs/terminus';

/** The part of an ioredis `Redis` or `Cluster` a health check needs. */
export interface PingableRedis {
  status: string;
  ping(): Promise<string>;
}

@Injectable()
export class RedisHealthIndicator {
  constructor(private readonly health: HealthIndicatorService) {}

  /**
   * PINGs with a short timeout. A client that is not `ready` is down at once: ioredis would
   * otherwise queue the PING until it reconnects and the probe would hang.
   */
  async isHealthy<K extends string = 'redis'>(key: K, client: PingableRedis, timeoutMs = 1000) {
    const indicator = this.health.check(key);
    if (client.status !== 'ready') return indicator.down({ message: `connection is ${client.status}` });
    const started = Date.now();
    let timer: NodeJS.Timeout | undefined;
    try {
      const timeout = new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new Error(`no PING reply within ${timeoutMs}ms`)), timeoutMs);
      });
      await Promise.race([client.ping(), timeout]);
      return indicator.up({ latencyMs: Date.now() - started });
    } catch (err) {
      return indicator.down({ message: err instanceof Error ? err.message : String(err) });
    } finally {
      clearTimeout(timer);
    }
  }
}

/** Terminus plus the Redis indicator, for apps that write their own health controller. */
@Module({
  imports: [TerminusModule],
  providers: [RedisHealthIndicator],
  exports: [TerminusModule, RedisHealthIndicator],
})
export class RedisHealthModule {}
