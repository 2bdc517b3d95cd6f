import { nextIndex } from './blocking-index';
import { CentralProtocols, centralProtocolOf, NO_CENTRAL_PROTOCOLS, proxyDefaultsProtocol, serviceDefaultsProtocols } from './consul-config-entries';
import { ConsulWatchContext } from './consul-watch.types';

/** The config entry kinds that can say a service's protocol. */
export type ProtocolEntryKind = 'service-defaults' | 'proxy-defaults';

export const PROTOCOL_ENTRY_KINDS: readonly ProtocolEntryKind[] = ['service-defaults', 'proxy-defaults'];

/**
 * The protocols Connect users set centrally, watched with one blocking query per entry kind. A
 * kind that cannot be read leaves protocols as they were (said once per error).
 */
export class ProtocolEntriesWatch {
  private central: CentralProtocols = NO_CENTRAL_PROTOCOLS;
  private readonly index: Record<ProtocolEntryKind, number> = { 'service-defaults': 0, 'proxy-defaults': 0 };
  private readonly errors = new Map<ProtocolEntryKind, string>();

  /** `moved(service)` tells whether a service's central protocol changed in the last answer. */
  constructor(
    private readonly ctx: ConsulWatchContext,
    private readonly changed: (moved: (service: string) => boolean) => void,
  ) {}

  protocolOf(service: string): string | undefined {
    return centralProtocolOf(this.central, service);
  }

  /** One read of a kind (blocking on its index once read, non-blocking after a failure). */
  async read(kind: ProtocolEntryKind, signal: AbortSignal, failures: number, timeoutMs?: number): Promise<void> {
    const previous = this.index[kind];
    const blocking = failures === 0 && previous > 0;
    this.ctx.metrics.request('config', blocking ? 'blocking' : 'poll');
    const r = await this.ctx.client.get<unknown>(`/v1/config/${kind}`, {
      index: blocking ? previous : 0,
      waitMs: this.ctx.options.waitMs,
      signal,
      timeoutMs: failures > 0 ? this.ctx.recoveryTimeout(failures) : timeoutMs,
    });
    const step = nextIndex(previous, r.index);
    this.index[kind] = step.next;
    if (this.errors.delete(kind)) this.ctx.log.info({ source: this.ctx.source, kind }, 'Consul config entries readable again');
    if (step.verdict === 'unchanged') return;
    this.ctx.metrics.changeSeen('config');
    const before = this.central;
    const next: CentralProtocols = kind === 'service-defaults' ? { ...before, byService: serviceDefaultsProtocols(r.body) } : { ...before, global: proxyDefaultsProtocol(r.body) };
    this.central = next;
    this.changed((service) => centralProtocolOf(before, service) !== centralProtocolOf(next, service));
  }

  failed(kind: ProtocolEntryKind, err: unknown): void {
    const msg = (err as Error)?.message ?? String(err);
    if (this.errors.get(kind) === msg) return;
    this.errors.set(kind, msg);
    this.ctx.log.warn({ source: this.ctx.source, kind, err: msg }, 'Consul config entries not read: protocols from them stay as last read (Meta.protocol and defaultProtocol still apply)');
  }
}
