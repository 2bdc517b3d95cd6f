import { ContractViolationError, RecordProducer } from './record-producer';
import { INGEST_JOB_OPTIONS } from './queues';

describe('RecordProducer', () => {
  const added: Array<{ name: string; data: unknown; opts: unknown }> = [];
  const producer = new RecordProducer({ add: async (name, data, opts) => void added.push({ name, data, opts }) });
  beforeEach(() => (added.length = 0));

  it('sends a versioned upsert with the ingest job options', async () => {
    await producer.upsert({
      source: { name: 'consul-dc1', kind: 'consul' },
      service: 'web',
      ports: [{ name: 'http', number: 80 }],
      endpoints: [],
      revision: 1,
      observedAt: new Date(0).toISOString(),
    });
    expect(added).toHaveLength(1);
    expect(added[0]).toMatchObject({ name: 'upsert', data: { v: 1, type: 'upsert', record: { service: 'web', metadata: {} } }, opts: INGEST_JOB_OPTIONS });
  });

  it('refuses an invalid message before it reaches the queue', async () => {
    await expect(
      producer.snapshot({ source: { name: 'BAD NAME', kind: 'consul' }, epoch: 1, complete: true, services: [], observedAt: new Date().toISOString() }),
    ).rejects.toThrow(ContractViolationError);
    await expect(
      producer.remove({ source: { name: 'ok', kind: 'consul' }, service: 'x', revision: -5, observedAt: new Date().toISOString() }),
    ).rejects.toThrow(/revision/);
    expect(added).toHaveLength(0);
  });

  it('sends source status heartbeats', async () => {
    await producer.sourceStatus({ source: { name: 'e1', kind: 'eureka' }, reachable: true, conditions: { selfPreservation: true }, observedAt: new Date().toISOString() });
    expect(added[0]).toMatchObject({ name: 'sourceStatus', data: { reachable: true, conditions: { selfPreservation: true } } });
  });
});
