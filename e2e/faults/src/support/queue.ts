// The ingest queue as a collector sees it: records pushed straight onto it (the writer cannot tell
// them from a collector's), for faults that are about the writer and the queue, not a registry.
import { QUEUES, RecordProducer, ServiceRecordInput } from '@registry-bridge/contract';
import { Queue } from 'bullmq';
import { Redis } from 'ioredis';
import { Scenario } from './scenario';

export class Ingest {
  readonly redis: Redis;
  readonly queue: Queue;
  readonly producer: RecordProducer;
  constructor(
    readonly sc: Scenario,
    readonly source: string,
    url = sc.peers.redisUrl,
  ) {
    this.redis = new Redis(url, { maxRetriesPerRequest: null });
    this.queue = new Queue(QUEUES.ingest, { connection: this.redis, prefix: sc.prefix });
    this.producer = new RecordProducer(this.queue);
    sc.onCleanup(() => this.close());
  }

  record(service: string, revision: number, addresses: string[]): ServiceRecordInput {
    return {
      source: { name: this.source, kind: 'consul' },
      service,
      ports: [{ name: 'http', number: 8080, protocol: 'HTTP' }],
      endpoints: addresses.map((address, i) => ({ id: `${service}-${i}`, address, health: 'healthy' as const })),
      revision,
      observedAt: new Date().toISOString(),
    };
  }

  upsert(service: string, revision: number, addresses: string[]) {
    return this.producer.upsert(this.record(service, revision, addresses));
  }

  status(reachable = true) {
    return this.producer.sourceStatus({ source: { name: this.source, kind: 'consul' }, reachable, observedAt: new Date().toISOString() });
  }

  snapshot(services: string[], epoch = Date.now()) {
    return this.producer.snapshot({ source: { name: this.source, kind: 'consul' }, epoch, complete: true, services: services.map((service) => ({ service })), observedAt: new Date().toISOString() });
  }

  async close(): Promise<void> {
    await this.queue.close().catch(() => undefined);
    this.redis.disconnect();
  }
}

/** Endpoint addresses per service of the namespace's ServiceEntries. */
export async function addressesBy(sc: Scenario): Promise<Map<string, string[]>> {
  return new Map((await sc.ses()).map((o) => [o.metadata.annotations?.['registry-bridge.io/service'] ?? o.metadata.name, (o.spec.endpoints ?? []).map((e) => e.address).sort()]));
}

/** True when the cluster holds exactly `want` (service -> addresses), nothing more. */
export async function exactly(sc: Scenario, want: Map<string, string[]>): Promise<boolean> {
  const got = await addressesBy(sc);
  const diff: string[] = [];
  for (const [k, v] of want) if (JSON.stringify(got.get(k)) !== JSON.stringify([...v].sort())) diff.push(`${k}: want ${v} got ${got.get(k) ?? 'none'}`);
  for (const k of got.keys()) if (!want.has(k)) diff.push(`${k}: not wanted`);
  // thrown, so a timed-out wait says what differs
  if (diff.length) throw new Error(`${diff.length} differ: ${diff.slice(0, 8).join('; ')}`);
  return true;
}
