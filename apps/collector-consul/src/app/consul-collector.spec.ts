import { Logger } from '@nestjs/common';
import { EventEmitter } from 'node:events';
import { CollectorAdapter, CollectorMetrics, CollectorReadiness, CollectorSourcesService, IngestProducer, MembershipService, RedisResetDetector, SourceStatusReporter } from '@registry-bridge/collector-core';
import { MetricsService } from '@registry-bridge/observability';
import { collectorConsulConfigSchema } from '@registry-bridge/config/consul';
import type { Redis } from 'ioredis';
import { consulCollector } from './consul-collector';

// The unreachable-source warnings are expected here.
Logger.overrideLogger(false);

const until = async (what: string, cond: () => boolean): Promise<void> => {
  for (let i = 0; i < 400 && !cond(); i++) await new Promise((r) => setTimeout(r, 25));
  if (!cond()) throw new Error(`never happened: ${what}`);
};

describe('the Consul collector', () => {
  const reports: Array<{ source: string; reachable: boolean; error?: string }> = [];
  const reporter = {
    report: async (source: string, u: { reachable: boolean; error?: string }) => void reports.push({ source, reachable: u.reachable, error: u.error }),
    reportChange: async (source: string, u: { reachable: boolean; error?: string }) => void reports.push({ source, reachable: u.reachable, error: u.error }),
    isReady: () => false,
  };
  const membership = Object.assign(new EventEmitter(), { memberId: 'm1', owns: () => true, leaseFor: async () => true });
  const metrics = new MetricsService();
  let service: CollectorSourcesService;
  let readiness: CollectorReadiness;

  afterEach(() => service?.onModuleDestroy());

  it('a source whose TLS file is missing is reported for itself and the other sources still start', async () => {
    reports.length = 0;
    // Port 9 (discard): nobody listens, so the healthy source's reads fail at once and it reports itself unreachable.
    const config = collectorConsulConfigSchema.parse({
      redis: { url: 'redis://127.0.0.1:9' },
      sources: [
        { name: 'consul-broken', address: 'https://127.0.0.1:9', tls: { caFile: 'missing-ca.pem' } },
        { name: 'consul-ok', address: 'http://127.0.0.1:9' },
      ],
    });
    readiness = new CollectorReadiness();
    service = new CollectorSourcesService(
      config,
      consulCollector as CollectorAdapter<unknown>,
      { upsert: async () => undefined, remove: async () => undefined, snapshot: async () => undefined } as unknown as IngestProducer,
      membership as unknown as MembershipService,
      reporter as unknown as SourceStatusReporter,
      readiness,
      new EventEmitter() as unknown as RedisResetDetector,
      {} as Redis,
      metrics,
      new CollectorMetrics(metrics, () => 1),
    );

    await service.onApplicationBootstrap();

    const checks = await readiness.evaluate();
    expect(checks.find((c) => c.name === 'consul:consul-broken')).toEqual({
      name: 'consul:consul-broken',
      ready: false,
      detail: expect.stringContaining('tls.caFile: cannot read missing-ca.pem: ENOENT'),
    });
    expect(reports.find((r) => r.source === 'consul-broken')).toEqual({ source: 'consul-broken', reachable: false, error: expect.stringContaining('tls.caFile') });
    expect(checks.map((c) => c.name)).toContain('consul:consul-ok');
    await until('the healthy source reads (and reports) Consul', () => reports.some((r) => r.source === 'consul-ok'));
  });
});
