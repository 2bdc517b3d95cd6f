import { HealthIndicatorService } from '@nestjs/terminus';
import { PingableRedis, RedisHealthIndicator } from './redis-health.indicator';

describe('RedisHealthIndicator', () => {
  const indicator = new RedisHealthIndicator(new HealthIndicatorService());
  const client = (status: string, ping: () => Promise<string>): PingableRedis => ({ status, ping });

  it('is up when PING answers', async () => {
    const r = await indicator.isHealthy('redis', client('ready', async () => 'PONG'));
    expect(r.redis.status).toBe('up');
  });

  it('is down at once when the connection is not ready', async () => {
    const ping = jest.fn();
    const r = await indicator.isHealthy('redis', client('reconnecting', ping));
    expect(r).toEqual({ redis: { status: 'down', message: 'connection is reconnecting' } });
    expect(ping).not.toHaveBeenCalled();
  });

  it('is down when PING does not answer in time', async () => {
    const r = await indicator.isHealthy('queue', client('ready', () => new Promise(() => undefined)), 20);
    expect(r).toEqual({ queue: { status: 'down', message: 'no PING reply within 20ms' } });
  });

  it('is down when PING fails', async () => {
    const r = await indicator.isHealthy('redis', client('ready', async () => Promise.reject(new Error('NOAUTH'))));
    expect(r.redis).toEqual({ status: 'down', message: 'NOAUTH' });
  });
});
