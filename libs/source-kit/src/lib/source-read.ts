import { IngestQueueLike, Message, RecordProducer, RegistryKind, serviceKey, ServiceRecordInput } from '@registry-bridge/contract';
import { recordKey } from './change-tracker';

/** A one-shot read of a source's whole view (what `RegistryAdapter.read` returns). */
export interface SourceRead {
  source: string;
  kind: RegistryKind;
  /** Every record read (one per service). */
  records: ServiceRecordInput[];
  /** Service keys of the source's listing; undefined when no listing was read (the read failed). */
  snapshotKeys?: string[];
  /** False when the registry said the listing may be partial (e.g. Consul ACL filtering). */
  complete: boolean;
  /** Source-level failure (unreachable, bad credentials): nothing of it can be trusted. */
  error?: string;
  /** Services listed but not read (their read failed): neither their state nor their absence is known. */
  unread: Array<{ key: string; error: string }>;
  /** Worth knowing about the registry (e.g. Eureka in self-preservation), not an error. */
  notes?: string[];
}

/** Where a one-shot read says what is worth a warning (never secrets). */
export type ReadDiagnostics = (message: string) => void;

/**
 * The output port of a one-shot read: the registry's own watch code sends through a real
 * RecordProducer (every message validated against the contract exactly as in production) and
 * the messages stay in memory; nothing reaches Redis. Keeps the latest record per service key,
 * the last listing and the last status.
 */
export class ReadCapture {
  readonly port: RecordProducer;
  readonly records = new Map<string, ServiceRecordInput>();
  listing?: { complete: boolean; keys: string[] };
  status?: { reachable: boolean; error?: string; conditions?: Record<string, unknown> };

  constructor(
    private readonly source: string,
    private readonly kind: RegistryKind,
    onMessage: () => void = () => undefined,
  ) {
    const queue: IngestQueueLike = {
      add: async (_name, data) => {
        this.take(data as Message);
        onMessage();
      },
    };
    this.port = new RecordProducer(queue);
  }

  private take(m: Message): void {
    if (m.type === 'upsert') this.records.set(recordKey(m.record), m.record);
    else if (m.type === 'snapshot') this.listing = { complete: m.complete, keys: m.services.map((s) => serviceKey({ source: this.source, scope: s.scope, service: s.service })) };
    else if (m.type === 'sourceStatus') this.status = { reachable: m.reachable, error: m.error, conditions: m.conditions };
  }

  /** The read: listed keys without a record are unread (`unreadError` says why); `error` fails the whole source. */
  result(unreadError: (key: string) => string, error?: string, notes: string[] = []): SourceRead {
    const listing = this.listing;
    const unread = error || !listing ? [] : listing.keys.filter((k) => !this.records.has(k)).map((key) => ({ key, error: unreadError(key) }));
    return {
      source: this.source,
      kind: this.kind,
      records: [...this.records.values()],
      snapshotKeys: error ? undefined : listing?.keys,
      complete: !!listing?.complete,
      ...(error ? { error } : !listing ? { error: 'no complete listing was read' } : {}),
      unread,
      notes,
    };
  }
}
