import type { IServiceEntry } from '@kubernetes-models/istio/networking.istio.io/v1/ServiceEntry';
import type { IWorkloadEntry } from '@kubernetes-models/istio/networking.istio.io/v1/WorkloadEntry';

export type ServiceEntryObject = IServiceEntry & { metadata: { name: string; namespace: string; labels: Record<string, string>; annotations: Record<string, string> } };
export type WorkloadEntryObject = IWorkloadEntry & { metadata: { name: string; namespace: string; labels: Record<string, string>; annotations: Record<string, string> } };

/** Why something was dropped; counted by the writer (`registry_bridge_translation_drops_total{reason}`). */
export type DropReason =
  | 'endpoint-bad-address'
  | 'endpoint-local-address'
  | 'endpoint-port-not-served'
  | 'endpoint-over-size'
  | 'port-not-served-by-all'
  | 'endpoint-duplicate'
  | 'endpoint-unhealthy'
  | 'endpoint-over-limit'
  | 'endpoint-port-unknown'
  | 'endpoint-ports-over-limit'
  | 'port-duplicate-number'
  | 'port-duplicate-name'
  | 'port-over-limit'
  | 'port-protocol-unknown'
  | 'label-invalid-key'
  | 'label-invalid-value'
  | 'label-reserved'
  | 'label-over-limit'
  | 'field-invalid';

export interface Drop {
  reason: DropReason;
  detail: string;
  /** How many things this one entry stands for (endpoints cut at a limit); 1 when absent. */
  count?: number;
}

export type RefusalReason = 'host-invalid' | 'host-not-allowed' | 'host-wildcard' | 'no-ports' | 'source-mismatch' | 'namespace-not-allowed';

export type TranslationResult =
  | {
      ok: true;
      key: string;
      host: string;
      serviceEntry: ServiceEntryObject;
      /** Empty in inline mode. */
      workloadEntries: WorkloadEntryObject[];
      /** First drops with details, for logs and status. */
      drops: Drop[];
      /** Every drop, counted by reason. */
      dropCounts: Partial<Record<DropReason, number>>;
    }
  | { ok: false; key: string; reason: RefusalReason; detail: string; host?: string };
