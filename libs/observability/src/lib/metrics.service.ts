import { Injectable } from '@nestjs/common';
import { collectDefaultMetrics, Counter, Gauge, Histogram, Metric, Registry } from 'prom-client';

export const METRIC_PREFIX = 'registry_bridge_';

export type GaugeCollect<L extends string> = (gauge: Gauge<L>) => void | Promise<void>;

type Kind = 'counter' | 'gauge' | 'histogram';

/**
 * Get-or-create access to one registry per app. Several providers may ask for the same metric
 * (e.g. two modules counting errors), so a second call with the same name returns the first
 * instance instead of throwing like prom-client does.
 */
@Injectable()
export class MetricsService {
  readonly registry = new Registry();
  private readonly metrics = new Map<string, { kind: Kind; labels: string; metric: Metric<string> }>();

  constructor() {
    collectDefaultMetrics({ register: this.registry });
  }

  counter<L extends string = string>(name: string, help: string, labelNames: readonly L[] = []): Counter<L> {
    return this.getOrCreate('counter', name, labelNames, () => new Counter<L>({ name, help, labelNames, registers: [this.registry] }));
  }

  gauge<L extends string = string>(name: string, help: string, labelNames: readonly L[] = [], collect?: GaugeCollect<L>): Gauge<L> {
    return this.getOrCreate('gauge', name, labelNames, () =>
      new Gauge<L>({
        name,
        help,
        labelNames,
        registers: [this.registry],
        ...(collect && {
          collect(this: Gauge<L>) {
            return collect(this);
          },
        }),
      }),
    );
  }

  histogram<L extends string = string>(name: string, help: string, labelNames: readonly L[] = [], buckets?: number[]): Histogram<L> {
    return this.getOrCreate('histogram', name, labelNames, () =>
      new Histogram<L>({ name, help, labelNames, registers: [this.registry], ...(buckets && { buckets }) }),
    );
  }

  private getOrCreate<M extends Metric<string>>(kind: Kind, name: string, labelNames: readonly string[], create: () => M): M {
    if (!name.startsWith(METRIC_PREFIX)) throw new Error(`metric "${name}" must start with "${METRIC_PREFIX}"`);
    const labels = [...labelNames].sort().join(',');
    const existing = this.metrics.get(name);
    if (existing) {
      // Same name with another shape would silently split one series into two meanings.
      if (existing.kind !== kind || existing.labels !== labels) {
        throw new Error(`metric "${name}" already exists as a ${existing.kind} with labels [${existing.labels}]`);
      }
      return existing.metric as M;
    }
    const metric = create();
    this.metrics.set(name, { kind, labels, metric });
    return metric;
  }
}
