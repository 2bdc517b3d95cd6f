import { ContractViolationError, INGEST_JOB_OPTIONS } from '@registry-bridge/contract';
import { MetricsService } from '@registry-bridge/observability';
import { CollectorMetrics } from './collector-metrics';
import { IngestProducer } from './ingest-producer';

describe('IngestProducer', () => {
  const observedAt = '2026-01-01T00:00:00Z';
  const setup = (add: (name: string, data: unknown) => Promise<unknown>) => {
    const metrics = new MetricsService();
    const queue = { add: jest.fn(add), close: jest.fn(async () => undefined) };
    return { metrics, queue, producer: new IngestProducer(queue, new CollectorMetrics(metrics)) };
  };
  const text = (m: MetricsService) => m.registry.metrics();

  it('sends validated messages with the ingest job options and counts them', async () => {
    const { producer, queue, metrics } = setup(async () => undefined);
    await producer.upsert({ source: { name: 'c1', kind: 'consul' }, service: 'web', ports: [], endpoints: [], revision: 1, observedAt });
    await producer.snapshot({ source: { name: 'c1', kind: 'consul' }, epoch: 1, complete: true, services: [{ service: 'web' }], observedAt });
    expect(queue.add).toHaveBeenCalledWith('upsert', expect.objectContaining({ v: 1, type: 'upsert' }), INGEST_JOB_OPTIONS);
    expect(await text(metrics)).toContain('registry_bridge_collector_records_sent_total{source="c1",type="upsert"} 1');
    expect(await text(metrics)).toContain('registry_bridge_collector_records_sent_total{source="c1",type="snapshot"} 1');
  });

  it('counts and rethrows failures (queue down, contract violation)', async () => {
    const { producer, metrics } = setup(async () => Promise.reject(new Error('Connection is closed.')));
    await expect(producer.remove({ source: { name: 'c1', kind: 'consul' }, service: 'web', revision: 2, observedAt })).rejects.toThrow('Connection is closed.');
    await expect(producer.remove({ source: { name: 'C 1', kind: 'consul' }, service: 'web', revision: 2, observedAt })).rejects.toThrow(ContractViolationError);
    const out = await text(metrics);
    expect(out).toContain('registry_bridge_collector_errors_total{source="c1",op="send_remove"} 1');
    expect(out).toContain('registry_bridge_collector_errors_total{source="C 1",op="send_remove"} 1');
  });

  it('closes its queue', async () => {
    const { producer, queue } = setup(async () => undefined);
    await producer.close();
    expect(queue.close).toHaveBeenCalled();
  });
});
