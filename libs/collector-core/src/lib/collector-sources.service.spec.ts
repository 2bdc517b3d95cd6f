import { Logger } from '@nestjs/common';
import { MetricsService } from '@registry-bridge/observability';
import type { SourceWatch } from '@registry-bridge/source-kit';
import type { Redis } from 'ioredis';
import { EventEmitter } from 'node:events';
import { CollectorMetrics } from './collector-metrics';
import { CollectorReadiness } from './collector-readiness';
import { CollectorAdapter, CollectorSourcesService } from './collector-sources.service';
import { IngestProducer } from './ingest-producer';
import { MembershipService } from './membership.service';
import { RedisResetDetector } from './redis-reset-detector';
import { SourceStatusReporter } from './source-status.reporter';

// The start failure is logged on purpose here.
Logger.overrideLogger(false);

describe('CollectorSourcesService', () => {
  const calls: string[] = [];
  const watch = (name: string): SourceWatch => ({
    start: () => void calls.push(`start ${name}`),
    stop: async () => void calls.push(`stop ${name}`),
    ownershipChanged: () => void calls.push(`moved ${name}`),
    resendAll: () => void calls.push(`resend ${name}`),
    readiness: () => ({ ready: true }),
  });
  const adapter: CollectorAdapter<{ sources: Array<{ name: string }> }> = {
    kind: 'consul',
    sources: (cfg) => cfg.sources,
    watch: (src) => {
      if (src.name === 'broken') throw new Error('tls.caFile: cannot read ca.pem: ENOENT');
      return watch(src.name);
    },
  };
  const membership = Object.assign(new EventEmitter(), { memberId: 'm1' });
  const resets = new EventEmitter();
  const reports: unknown[] = [];
  const reporter = { report: async (source: string, u: object) => void reports.push({ source, ...u }) };
  const readiness = new CollectorReadiness();
  const metrics = new MetricsService();
  const service = new CollectorSourcesService(
    { sources: [{ name: 'a' }, { name: 'broken' }, { name: 'b' }] },
    adapter as CollectorAdapter<unknown>,
    {} as IngestProducer,
    membership as unknown as MembershipService,
    reporter as unknown as SourceStatusReporter,
    readiness,
    resets as unknown as RedisResetDetector,
    {} as Redis,
    metrics,
    new CollectorMetrics(metrics, () => 1),
  );

  it('starts every source but the broken one, which is reported and not ready; passes membership moves and Redis resets on', async () => {
    await service.onApplicationBootstrap();
    expect(calls).toEqual(['start a', 'start b']);
    expect((await readiness.evaluate()).sort((x, y) => x.name.localeCompare(y.name))).toEqual([
      { name: 'consul:a', ready: true },
      { name: 'consul:b', ready: true },
      { name: 'consul:broken', ready: false, detail: 'not started: tls.caFile: cannot read ca.pem: ENOENT' },
    ]);
    expect(reports).toEqual([{ source: 'broken', reachable: false, error: 'not started: tls.caFile: cannot read ca.pem: ENOENT' }]);
    calls.length = 0;
    membership.emit('change');
    resets.emit('reset');
    await service.onModuleDestroy();
    expect(calls).toEqual(['moved a', 'moved b', 'resend a', 'resend b', 'stop a', 'stop b']);
  });
});
