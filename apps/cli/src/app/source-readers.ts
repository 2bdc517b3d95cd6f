import { IngestQueueLike, Message, parseServiceKey, RecordProducer, serviceKey, ServiceRecordInput } from '@registry-bridge/contract';
import { ConsulSourceConfig, ConsulSourceWatcher, createConsulClient, sourceScope } from '@registry-bridge/registry-consul';
import { EurekaRestClient, EurekaSourceConfig, EurekaSourceSyncer, toClientOptions, toSyncOptions } from '@registry-bridge/registry-eureka';
import { CloudMapReader, CloudMapSourceConfig, cloudMapEmitter, CloudMapWatcher, createCloudMapClient, describeError, LocalRequestBudget, SINGLE_REPLICA } from '@registry-bridge/registry-cloudmap';
import { SourceRead } from './plan-diff';

/**
 * Stands in for the BullMQ ingest queue: the collectors' own code sends through a real
 * `RecordProducer` (so each message is validated against the contract exactly as in production)
 * and the messages stay in memory. Nothing reaches Redis.
 */
export class CapturingQueue implements IngestQueueLike {
  readonly messages: Message[] = [];
  constructor(private readonly onMessage: (m: Message) => void = () => undefined) {}
  async add(_name: string, data: unknown): Promise<unknown> {
    this.messages.push(data as Message);
    this.onMessage(data as Message);
    return undefined;
  }
}

export type Diagnostics = (source: string, message: string) => void;

/** Latest record per service key, and the last snapshot, out of what a collector sent. */
class Capture {
  readonly records = new Map<string, ServiceRecordInput>();
  snapshot?: { complete: boolean; keys: string[] };
  status?: { reachable: boolean; error?: string; conditions?: Record<string, unknown> };

  constructor(private readonly source: string) {}

  take(m: Message): void {
    if (m.type === 'upsert') this.records.set(serviceKey({ source: m.record.source.name, scope: m.record.scope, service: m.record.service }), m.record);
    else if (m.type === 'snapshot') this.snapshot = { complete: m.complete, keys: m.services.map((s) => serviceKey({ source: this.source, scope: s.scope, service: s.service })) };
    else if (m.type === 'sourceStatus') this.status = { reachable: m.reachable, error: m.error, conditions: m.conditions };
  }

  result(kind: SourceRead['kind'], unreadError: (key: string) => string, error?: string, notes: string[] = []): SourceRead {
    const snap = this.snapshot;
    const unread = error || !snap ? [] : snap.keys.filter((k) => !this.records.has(k)).map((key) => ({ key, error: unreadError(key) }));
    return {
      source: this.source,
      kind,
      records: [...this.records.values()],
      snapshotKeys: error ? undefined : snap?.keys,
      complete: !!snap?.complete,
      ...(error ? { error } : !snap ? { error: 'no complete listing was read' } : {}),
      unread,
      notes,
    };
  }
}

/**
 * One complete read of a Consul source through the collector's watcher: it owns every service and
 * holds the snapshot lease, so it lists the catalog and reads every service once. Done when every
 * listed service was read (or left out as proxy-only), when Consul is unreachable, or at the timeout.
 */
export async function readConsul(cfg: ConsulSourceConfig, timeoutMs: number, diag: Diagnostics): Promise<SourceRead> {
  const capture = new Capture(cfg.name);
  const excluded = new Set<string>();
  const serviceErrors = new Map<string, string>();
  let unreachable: string | undefined;
  let finish = (): void => undefined;
  const finished = new Promise<void>((resolve) => (finish = resolve));
  const check = (): void => {
    const snap = capture.snapshot;
    if (unreachable || (snap && snap.keys.every((k) => capture.records.has(k) || excluded.has(k)))) finish();
  };
  const producer = new RecordProducer(new CapturingQueue((m) => (capture.take(m), check())));
  const source = { name: cfg.name, kind: 'consul' as const };
  const observedAt = () => new Date().toISOString();
  const keyOf = (service: string) => serviceKey({ source: cfg.name, scope: sourceScope(cfg), service });
  const watcher = new ConsulSourceWatcher(
    cfg,
    createConsulClient(cfg),
    {
      upsert: async (r) => void (await producer.upsert(r)),
      // A removal needs two catalog reads; one complete read never sends one.
      remove: async () => undefined,
      snapshot: async (m) => void (await producer.snapshot({ source, ...m, observedAt: observedAt() })),
      status: (s) => {
        // Unreachable before the first listing: a one-shot read stops here instead of retrying.
        if (!s.reachable && !capture.snapshot) unreachable = s.error ?? 'Consul unreachable';
        check();
      },
    },
    { owns: () => true, snapshotLease: async () => true },
    {
      info: (o, msg) => {
        // The watcher leaves out services whose instances are all Connect proxies; they are never sent.
        const service = (o as { service?: string }).service;
        if (service && /only Connect proxy/.test(msg)) {
          excluded.add(keyOf(service));
          check();
        }
      },
      warn: (o, msg) => {
        const { service, err } = o as { service?: string; err?: string };
        if (service && err) serviceErrors.set(service, err);
        diag(cfg.name, `${msg}${err ? `: ${err}` : ''}`);
      },
      error: (o, msg) => diag(cfg.name, `${msg}${(o as { err?: string }).err ? `: ${(o as { err?: string }).err}` : ''}`),
    },
  );
  let timer: NodeJS.Timeout | undefined;
  try {
    await watcher.start();
    await Promise.race([finished, new Promise<void>((resolve) => (timer = setTimeout(resolve, timeoutMs)))]);
  } finally {
    clearTimeout(timer);
    await watcher.stop();
  }
  if (capture.snapshot) capture.snapshot.keys = capture.snapshot.keys.filter((k) => !excluded.has(k));
  const error = unreachable ?? (capture.snapshot ? undefined : `no catalog listing within ${timeoutMs / 1000}s`);
  return capture.result('consul', (key) => serviceErrors.get(parseServiceKey(key).service) ?? `not read within ${timeoutMs / 1000}s`, error);
}

/** One full fetch of a Eureka source through the collector's syncer (its first round is always a full fetch). */
export async function readEureka(cfg: EurekaSourceConfig, diag: Diagnostics): Promise<SourceRead> {
  const capture = new Capture(cfg.name);
  const producer = new RecordProducer(new CapturingQueue((m) => capture.take(m)));
  const syncer = new EurekaSourceSyncer(new EurekaRestClient(toClientOptions(cfg)), producer, toSyncOptions(cfg), {}, {
    debug: () => undefined,
    info: () => undefined,
    warn: (o, msg) => diag(cfg.name, `${msg}${(o as { err?: string }).err ? `: ${(o as { err?: string }).err}` : ''}`),
  });
  const result = await syncer.syncOnce();
  const notes: string[] = [];
  if (capture.status?.conditions?.['selfPreservation'] === true) notes.push('Eureka is in self-preservation: instances are not expired and may be listed UP while dead');
  const error = result ? undefined : (capture.status?.error ?? 'Eureka fetch failed');
  return capture.result('eureka', () => 'not read', error, notes);
}

/**
 * One inventory and one poll cycle of a Cloud Map source through the collector's watcher, with
 * the in-process request budget (the Redis one is only needed to share a budget between replicas).
 */
export async function readCloudMap(cfg: CloudMapSourceConfig, diag: Diagnostics): Promise<SourceRead> {
  const capture = new Capture(cfg.name);
  const producer = new RecordProducer(new CapturingQueue((m) => capture.take(m)));
  const client = createCloudMapClient(cfg, { budget: new LocalRequestBudget(cfg) });
  let lastPollError: string | undefined;
  const watcher = new CloudMapWatcher(cfg, {
    reader: new CloudMapReader(client, cfg),
    emitter: cloudMapEmitter(cfg.name, { port: producer }),
    coordination: SINGLE_REPLICA,
    observer: {
      onDrops: () => undefined,
      onChange: () => undefined,
      onSkip: () => undefined,
      onServices: () => undefined,
      onSuccess: () => undefined,
      onError: (phase, err) => {
        if (phase === 'poll') lastPollError = describeError(err);
      },
      onCycle: () => undefined,
    },
    log: (level, message, fields) => {
      if (level === 'warn') diag(cfg.name, `${message}${fields?.['error'] ? `: ${String(fields['error'])}` : ''}`);
    },
  });
  try {
    const listed = await watcher.runInventory();
    if (!listed) return capture.result('cloudmap', () => 'not read', watcher.sourceHealth().error ?? 'Cloud Map inventory failed');
    await watcher.runPollCycle();
    return capture.result('cloudmap', () => lastPollError ?? 'not read (deleted since the listing?)');
  } finally {
    client.destroy();
  }
}
