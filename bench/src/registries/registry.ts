import type { SeObject } from '../lib/kube';

/** What the harness believes one instance looks like in the registry. */
export interface InstanceModel {
  present: boolean;
  healthy: boolean;
  version: number;
}

export type ChangeType = 'health' | 'deregister' | 'register' | 'metadata';

/**
 * One registry under test: seeds services, makes changes (each returns once the registry
 * acknowledged it, the moment latency is measured from), and events that change nothing.
 */
export interface RegistryDriver {
  readonly kind: 'consul' | 'eureka' | 'cloudmap';
  /** Source name as the writer knows it. */
  readonly source: string;
  /** Label for tables (e.g. "eureka (cache on)"). */
  readonly label: string;
  seed(services: number, instances: number, onProgress?: (done: number) => void): Promise<void>;
  apply(service: number, instance: number, type: ChangeType, model: InstanceModel): Promise<void>;
  /** A registry event that must not change any Kubernetes object (index bump, replay, re-register identical). */
  noop(service: number, model: InstanceModel[]): Promise<void>;
  cleanup(): Promise<void>;
  collectorApp(): 'collector-consul' | 'collector-eureka' | 'collector-cloudmap';
  collectorConfig(redis: Record<string, unknown>): Record<string, unknown>;
  writerSource(): Record<string, unknown>;
  /** Change types this registry can express. */
  readonly changeTypes: ChangeType[];
  /** Instance slots per service left unregistered at seed time, for 'register' changes. */
  readonly spareInstances: number;
  /** How a rolling change is made: a new version on each instance, or new instances. */
  readonly rolling: 'metadata' | 'register';
}

export const address = (s: number, i: number): string => `10.${100 + ((s >> 8) & 127)}.${s & 255}.${i + 1}`;

/** Service index from a ServiceEntry written for service `<prefix>-s<n>`. */
export function serviceIndex(obj: SeObject): number | undefined {
  const name = obj.metadata.annotations?.['registry-bridge.io/service'] ?? '';
  const m = /-s(\d+)$/i.exec(name);
  return m ? Number(m[1]) : undefined;
}

export function modelSignature(s: number, model: InstanceModel[]): string {
  return model
    .map((m, i) => (m.present && m.healthy ? `${address(s, i)}|v${m.version}` : ''))
    .filter(Boolean)
    .sort()
    .join(',');
}
