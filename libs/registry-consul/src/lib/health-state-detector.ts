import { nextIndex } from './blocking-index';
import { ConsulHttpClient } from './consul-http.client';
import { ConsulWatcherMetrics } from './consul-watch.types';

/** One entry of `/v1/health/state/any`. */
export interface HealthCheckEntry {
  Node?: string;
  CheckID?: string;
  Status?: string;
  ServiceName?: string;
  ModifyIndex?: number;
}

/** The checks of one answer, as a signature per service and per node (node-level checks). */
export interface CheckSignatures {
  byService: Map<string, string>;
  byNode: Map<string, string>;
}

export function checkSignatures(checks: readonly HealthCheckEntry[]): CheckSignatures {
  const byService = new Map<string, string>();
  const byNode = new Map<string, string>();
  for (const c of checks) {
    const sig = `${c.CheckID}:${c.Status}:${c.ModifyIndex};`;
    const map = c.ServiceName ? byService : byNode;
    const k = c.ServiceName || c.Node || '';
    map.set(k, (map.get(k) ?? '') + sig);
  }
  return { byService, byNode };
}

/**
 * What moved between two answers: services whose own checks changed (or went), and nodes whose
 * node-level checks changed (or went): every service on such a node must be read again.
 */
export function changedChecks(before: CheckSignatures, after: CheckSignatures): { services: string[]; nodes: Set<string> } {
  const services: string[] = [];
  for (const [name, sig] of after.byService) if (before.byService.get(name) !== sig) services.push(name);
  for (const name of before.byService.keys()) if (!after.byService.has(name)) services.push(name);
  const nodes = new Set<string>();
  for (const [n, sig] of after.byNode) if (before.byNode.get(n) !== sig) nodes.add(n);
  for (const n of before.byNode.keys()) if (!after.byNode.has(n)) nodes.add(n);
  return { services, nodes };
}

/**
 * Spots health flips of the services outside the blocking pool: one blocking query on
 * `/v1/health/state/any` (every check of the datacenter), compared answer to answer.
 */
export class HealthStateDetector {
  private index = 0;
  private signatures: CheckSignatures = { byService: new Map(), byNode: new Map() };
  readonly abort = new AbortController();

  constructor(
    private readonly client: ConsulHttpClient,
    private readonly metrics: Pick<ConsulWatcherMetrics, 'request' | 'indexReset' | 'changeSeen'>,
    private readonly waitMs: number,
    private readonly recoveryTimeout: (failures: number) => number,
  ) {}

  /** One read (blocking once read, non-blocking after a failure): what moved since the last answer; nothing on the first. */
  async step(signal: AbortSignal, failures: number): Promise<{ services: string[]; nodes: Set<string> } | undefined> {
    const blocking = failures === 0 && this.index > 0;
    this.metrics.request('health_state', blocking ? 'blocking' : 'poll');
    const r = await this.client.get<HealthCheckEntry[]>('/v1/health/state/any', {
      index: blocking ? this.index : 0,
      waitMs: this.waitMs,
      signal,
      ...(failures > 0 && { timeoutMs: this.recoveryTimeout(failures) }),
    });
    const step = nextIndex(this.index, r.index);
    if (step.verdict === 'reset') this.metrics.indexReset('health_state');
    const first = this.index === 0;
    this.index = step.next;
    if (step.verdict === 'unchanged') return undefined;
    this.metrics.changeSeen('health_state');
    const next = checkSignatures(r.body ?? []);
    const changed = first ? undefined : changedChecks(this.signatures, next);
    this.signatures = next;
    return changed;
  }
}
