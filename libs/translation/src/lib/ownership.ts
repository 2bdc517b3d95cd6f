/** Labels and annotations that mark what registry-bridge owns; shared by the writer and its tests. */
export const MANAGED_BY_VALUE = 'registry-bridge';

export const LABELS = {
  managedBy: 'app.kubernetes.io/managed-by',
  installation: 'registry-bridge.io/installation',
  registry: 'registry-bridge.io/registry',
  source: 'registry-bridge.io/source',
  /** On WorkloadEntries: the ServiceEntry whose workloadSelector picks them. */
  serviceEntry: 'registry-bridge.io/service-entry',
} as const;

export const ANNOTATIONS = {
  serviceKey: 'registry-bridge.io/service-key',
  service: 'registry-bridge.io/service',
  scope: 'registry-bridge.io/scope',
  source: 'registry-bridge.io/source',
  /** Hash of everything registry-bridge sets on the object; equal hash = nothing to write. */
  specHash: 'registry-bridge.io/spec-hash',
  endpointId: 'registry-bridge.io/endpoint-id',
} as const;

/** Label keys a registry may never set (they would forge ownership or selection). */
export const RESERVED_LABEL_PREFIXES = ['registry-bridge.io/', 'app.kubernetes.io/managed-by'];

/** Label the translator itself writes on endpoints: whether Istio may use mutual TLS to them. */
export const TLS_MODE_LABEL = 'security.istio.io/tlsMode';

// Istio and Kubernetes act on labels under these domains (and their subdomains): mTLS, locality,
// network, canonical service, topology, headless/proxy selection. Our own domain forges ownership.
const RESERVED_LABEL_DOMAINS = ['istio.io', 'kubernetes.io', 'k8s.io', 'registry-bridge.io'];
// Kubernetes' recommended application labels are ordinary metadata, except the owner marker.
const OPEN_LABEL_DOMAINS = ['app.kubernetes.io'];
// Unprefixed keys Istio reads (`istio-locality` sets an endpoint's locality) and our owner marker.
const RESERVED_LABEL_KEYS = new Set(['istio-locality', LABELS.managedBy]);

/** True for label keys registry data may never set; such labels are dropped and counted. */
export function isReservedLabelKey(key: string): boolean {
  if (RESERVED_LABEL_KEYS.has(key)) return true;
  const slash = key.lastIndexOf('/');
  if (slash < 0) return false;
  const domain = key.slice(0, slash).toLowerCase();
  if (OPEN_LABEL_DOMAINS.includes(domain)) return false;
  return RESERVED_LABEL_DOMAINS.some((d) => domain === d || domain.endsWith(`.${d}`));
}

export function ownershipSelector(installation: string, source?: string): string {
  const parts = [`${LABELS.managedBy}=${MANAGED_BY_VALUE}`, `${LABELS.installation}=${installation}`];
  if (source) parts.push(`${LABELS.source}=${source}`);
  return parts.join(',');
}

export interface ObjectMetaLike {
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
}

/** True only for objects this installation wrote: the rule for ever modifying or deleting one. */
export function isOwnedBy(meta: ObjectMetaLike | undefined, installation: string): boolean {
  const labels = meta?.labels ?? {};
  return labels[LABELS.managedBy] === MANAGED_BY_VALUE && labels[LABELS.installation] === installation;
}
