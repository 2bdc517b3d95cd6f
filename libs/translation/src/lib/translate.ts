import type { IServiceEntry } from '@kubernetes-models/istio/networking.istio.io/v1/ServiceEntry';
import type { IWorkloadEntry } from '@kubernetes-models/istio/networking.istio.io/v1/WorkloadEntry';
import { Endpoint, REGISTRY_KINDS, RegistryKind, ServiceRecord, serviceKey } from '@registry-bridge/contract';
import { classifyAddress, isDns1123Subdomain, isValidLabelKey, isValidLabelValue, localAddressKind, objectName, sanitizeLabelPart, shortHash } from './names';
import { ANNOTATIONS, isReservedLabelKey, LABELS, MANAGED_BY_VALUE, TLS_MODE_LABEL } from './ownership';
import { CRD_LIMITS, DEFAULT_CLUSTER_DOMAIN, ISTIO_PROTOCOLS, SourceRules } from './source-rules';

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

/** The mesh's root namespace: Kubernetes Services there (istiod, gateways) select by labels such as `app`. */
export const ISTIO_ROOT_NAMESPACE = 'istio-system';

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

const PROTOCOLS = new Set<string>(ISTIO_PROTOCOLS);
const MAX_DROPS_LISTED = 50;

/**
 * Serialized size an object may reach. etcd refuses values over 1.5 MiB by default and the API
 * server adds managedFields and istiod a status to what we send: 1 MiB leaves room for both.
 */
export const OBJECT_BYTE_BUDGET = 1024 * 1024;

export interface HostTemplateVariable {
  /** Registries whose records carry it (a test feeds each normalizer's real output through it). */
  kinds: readonly RegistryKind[];
  /** The record metadata key it is read from, when it comes from metadata. */
  metadataKey?: string;
  value(record: ServiceRecord): string | undefined;
}

/** The `{variables}` of host templates and where each is read from in a record. */
export const HOST_TEMPLATE_VARIABLES: Readonly<Record<string, HostTemplateVariable>> = {
  service: { kinds: REGISTRY_KINDS, value: (r) => r.service },
  source: { kinds: REGISTRY_KINDS, value: (r) => r.source.name },
  // Consul's scope is an Enterprise namespace/partition, absent on Community Edition.
  scope: { kinds: ['cloudmap'], value: (r) => r.scope },
  datacenter: { kinds: ['consul'], metadataKey: 'consul.datacenter', value: (r) => r.metadata['consul.datacenter'] },
};

function hostSuffixMatches(host: string, suffix: string): boolean {
  const s = suffix.toLowerCase().replace(/^\*?\.?/, '');
  return host === s || host.endsWith(`.${s}`);
}

/** Renders and validates the host of a record; exported for the dry-run and the collision index. */
export function renderHost(record: ServiceRecord, rules: SourceRules): { ok: true; host: string } | { ok: false; reason: RefusalReason; detail: string; host?: string } {
  const empty: string[] = [];
  const raw = rules.hostTemplate.replace(/\{(\w+)\}/g, (_m, name: string) => {
    const value = (Object.hasOwn(HOST_TEMPLATE_VARIABLES, name) && HOST_TEMPLATE_VARIABLES[name].value(record)) || '';
    if (!value) empty.push(`{${name}}`);
    return value;
  });
  if (empty.length) {
    return { ok: false, reason: 'host-invalid', detail: `host template "${rules.hostTemplate}" of source ${rules.source}: ${empty.join(', ')} is empty for service ${record.service}` };
  }
  // Registry names are case-insensitive in DNS terms; `_` is common in Eureka app names.
  const host = raw
    .toLowerCase()
    .split('.')
    .map((label) => (label === '*' ? label : sanitizeLabelPart(label.replace(/_/g, '-'))))
    .join('.');
  const wildcard = host.startsWith('*.');
  if (wildcard && !rules.allowWildcardHosts) return { ok: false, reason: 'host-wildcard', detail: `wildcard host "${host}" is not allowed for source ${rules.source}`, host };
  const checked = wildcard ? host.slice(2) : host;
  if (!isDns1123Subdomain(checked) || checked.includes('*')) {
    return { ok: false, reason: 'host-invalid', detail: `host "${raw}" (from template "${rules.hostTemplate}") is not a valid DNS-1123 name`, host };
  }
  const denied = [DEFAULT_CLUSTER_DOMAIN, ...(rules.deniedHostSuffixes ?? [])].find((suffix) => hostSuffixMatches(checked, suffix));
  if (denied) {
    return { ok: false, reason: 'host-not-allowed', detail: `host "${host}" is inside the Kubernetes cluster domain ${denied}; a registry never claims Kubernetes service names`, host };
  }
  if (!rules.allowedHostSuffixes.some((suffix) => hostSuffixMatches(checked, suffix))) {
    return { ok: false, reason: 'host-not-allowed', detail: `host "${host}" is outside the allowed suffixes [${rules.allowedHostSuffixes.join(', ')}] of source ${rules.source}`, host };
  }
  return { ok: true, host };
}

function sanitizeLabels(input: Record<string, string>, drops: Drop[], context: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [key, value] of Object.entries(input).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))) {
    if (isReservedLabelKey(key)) {
      drops.push({ reason: 'label-reserved', detail: `${context}: label "${key}" is reserved` });
    } else if (!isValidLabelKey(key)) {
      drops.push({ reason: 'label-invalid-key', detail: `${context}: label key "${key.slice(0, 80)}" is not a valid Kubernetes label key` });
    } else if (!isValidLabelValue(value)) {
      drops.push({ reason: 'label-invalid-value', detail: `${context}: value of label "${key}" is not a valid Kubernetes label value` });
    } else if (Object.keys(out).length >= CRD_LIMITS.labels - 8) {
      drops.push({ reason: 'label-over-limit', detail: `${context}: label "${key}" over the ${CRD_LIMITS.labels} label limit` });
    } else {
      out[key] = value;
    }
  }
  return out;
}

/** A DNS-1123 label (Istio rejects any other port name): `base` cut to leave room for `suffix`. */
function labelWithSuffix(base: string, suffix = ''): string {
  return `${base.slice(0, 63 - suffix.length).replace(/-+$/, '')}${suffix}`;
}

function portName(name: string, number: number): string {
  return labelWithSuffix(sanitizeLabelPart(name)) || `port-${number}`;
}

interface PortPlan {
  ports: Array<{ name: string; number: number; protocol: string }>;
  /** registry port name -> SE port name */
  names: Map<string, string>;
  /** SE port names left out because not every instance serves them. */
  unserved: Set<string>;
}

function planPorts(record: ServiceRecord, rules: SourceRules, drops: Drop[]): PortPlan {
  const ports: PortPlan['ports'] = [];
  const names = new Map<string, string>();
  const seenNumbers = new Set<number>();
  const seenNames = new Set<string>();
  for (const port of record.ports) {
    if (seenNumbers.has(port.number)) {
      drops.push({ reason: 'port-duplicate-number', detail: `port ${port.name}/${port.number}: number already used` });
      // Endpoints may still reference this name; map it to the port that holds the number.
      const holder = ports.find((p) => p.number === port.number);
      if (holder && !names.has(port.name)) names.set(port.name, holder.name);
      continue;
    }
    let name = portName(port.name, port.number);
    if (seenNames.has(name)) {
      drops.push({ reason: 'port-duplicate-name', detail: `port ${port.name}/${port.number}: name "${name}" already used, renamed` });
      const base = name;
      name = labelWithSuffix(base, `-${port.number}`);
      for (let n = 2; seenNames.has(name); n++) name = labelWithSuffix(base, `-${port.number}-${n}`);
    }
    if (ports.length >= CRD_LIMITS.ports) {
      drops.push({ reason: 'port-over-limit', detail: `port ${port.name}/${port.number}: over the ${CRD_LIMITS.ports} port limit` });
      continue;
    }
    let protocol = (port.protocol ?? '').toUpperCase();
    if (protocol && !PROTOCOLS.has(protocol)) {
      drops.push({ reason: 'port-protocol-unknown', detail: `port ${port.name}/${port.number}: protocol "${port.protocol}" unknown to Istio, using ${rules.defaultProtocol}` });
      protocol = '';
    }
    ports.push({ name, number: port.number, protocol: protocol || rules.defaultProtocol });
    names.set(port.name, name);
    seenNumbers.add(port.number);
    seenNames.add(name);
  }
  return { ports, names, unserved: new Set() };
}

/**
 * Istio sends to every endpoint of a ServiceEntry on every one of its ports (an endpoint's `ports`
 * only changes the target number; a port it lacks falls back to the service port), so it cannot
 * say "not on this port". The port most instances serve is kept and instances that lack it are
 * left out; every other port is written only when all remaining instances serve it. Decided over
 * every instance with a usable address, whatever its health, so ports do not flap with health.
 * An endpoint whose `ports` is empty serves every service port. Returns the instances left out.
 */
function restrictToServedPorts(endpoints: Endpoint[], plan: PortPlan, drops: Drop[]): Map<string, string> {
  const all = plan.ports.map((p) => p.name);
  const served = endpoints.map((ep) => {
    const names = new Set(Object.keys(ep.ports).flatMap((n) => plan.names.get(n) ?? []));
    return { id: ep.id, names: names.size ? names : new Set(all) };
  });
  const left = new Map<string, string>();
  if (served.length === 0) return left;
  const servers = (name: string, among: typeof served) => among.filter((s) => s.names.has(name)).length;
  const primary = plan.ports.reduce((best, p) => (servers(p.name, served) > servers(best.name, served) ? p : best));
  for (const s of served) {
    if (!s.names.has(primary.name)) left.set(s.id, `endpoint ${s.id}: does not serve port ${primary.name}/${primary.number}, which most instances serve; Istio would send that port's traffic to it`);
  }
  const remaining = served.filter((s) => s.names.has(primary.name));
  plan.ports = plan.ports.filter((p) => {
    const n = servers(p.name, remaining);
    if (n === remaining.length) return true;
    plan.unserved.add(p.name);
    drops.push({ reason: 'port-not-served-by-all', detail: `port ${p.name}/${p.number} is served by ${n} of ${remaining.length} instances; Istio would send its traffic to every instance` });
    return false;
  });
  return left;
}

interface PlannedEndpoint {
  id: string;
  address: string;
  ports?: Record<string, number>;
  labels?: Record<string, string>;
  locality?: string;
  weight?: number;
  network?: string;
  serviceAccount?: string;
}

function planEndpoint(ep: Endpoint, plan: PortPlan, rules: SourceRules, drops: Drop[]): PlannedEndpoint | undefined {
  const kind = classifyAddress(ep.address);
  if (kind === 'invalid') {
    drops.push({ reason: 'endpoint-bad-address', detail: `endpoint ${ep.id}: address "${ep.address.slice(0, 80)}" is neither an IP nor a host name` });
    return undefined;
  }
  const local = localAddressKind(ep.address);
  if (local) {
    drops.push({ reason: 'endpoint-local-address', detail: `endpoint ${ep.id}: address "${ep.address.slice(0, 80)}" is ${local}; a sidecar would connect to the caller's own pod` });
    return undefined;
  }
  const address = kind === 'hostname' ? ep.address.toLowerCase().replace(/\.$/, '') : ep.address;
  const ports: Record<string, number> = {};
  for (const [name, number] of Object.entries(ep.ports)) {
    const seName = plan.names.get(name);
    if (seName && plan.unserved.has(seName)) continue;
    if (!seName) {
      drops.push({ reason: 'endpoint-port-unknown', detail: `endpoint ${ep.id}: port "${name}" is not a port of the service` });
      continue;
    }
    const servicePort = plan.ports.find((p) => p.name === seName);
    if (servicePort && servicePort.number === number) continue;
    if (Object.keys(ports).length >= CRD_LIMITS.endpointPorts) {
      drops.push({ reason: 'endpoint-ports-over-limit', detail: `endpoint ${ep.id}: over the ${CRD_LIMITS.endpointPorts} port limit` });
      break;
    }
    ports[seName] = number;
  }
  const labels = sanitizeLabels(ep.labels, drops, `endpoint ${ep.id}`);
  const serviceAccount = ep.serviceAccount ?? rules.serviceAccount;
  // Istio treats an endpoint with a service account and no tlsMode label as running a sidecar.
  if (rules.sidecars) labels[TLS_MODE_LABEL] = 'istio';
  else if (serviceAccount) labels[TLS_MODE_LABEL] = 'disabled';
  const out: PlannedEndpoint = { id: ep.id, address };
  if (Object.keys(ports).length) out.ports = sortObject(ports);
  if (Object.keys(labels).length) out.labels = sortObject(labels);
  if (ep.locality) out.locality = ep.locality;
  if (ep.weight !== undefined) out.weight = ep.weight;
  const network = ep.network ?? rules.network;
  if (network) out.network = network;
  if (serviceAccount) out.serviceAccount = serviceAccount;
  return out;
}

function sortObject<T>(o: Record<string, T>): Record<string, T> {
  return Object.fromEntries(Object.entries(o).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
}

/** Canonical JSON (sorted keys) so the same content always hashes the same. */
export function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  if (value && typeof value === 'object') {
    return `{${Object.entries(value as Record<string, unknown>)
      .filter(([, v]) => v !== undefined)
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
      .map(([k, v]) => `${JSON.stringify(k)}:${canonicalJson(v)}`)
      .join(',')}}`;
  }
  return JSON.stringify(value);
}

/** Hash over what we set on an object (labels, annotations except the hash, spec). */
export function specHash(obj: { metadata: { labels: Record<string, string>; annotations: Record<string, string> }; spec: unknown }): string {
  const annotations = { ...obj.metadata.annotations };
  delete annotations[ANNOTATIONS.specHash];
  return shortHash(canonicalJson({ labels: obj.metadata.labels, annotations, spec: obj.spec }), 16);
}

function withHash<T extends { metadata: { labels: Record<string, string>; annotations: Record<string, string> }; spec: unknown }>(obj: T): T {
  obj.metadata.annotations[ANNOTATIONS.specHash] = specHash(obj);
  return obj;
}

// Room for the spec-hash annotation added after the size is measured.
const HASH_ANNOTATION_BYTES = 64;

/** The endpoints that fit the object's byte budget, in order; the rest are dropped with a reason. */
function withinByteBudget<T>(endpoints: T[], skeleton: unknown, drops: Drop[]): T[] {
  let bytes = Buffer.byteLength(JSON.stringify(skeleton)) + HASH_ANNOTATION_BYTES + '"endpoints":[],'.length;
  for (let i = 0; i < endpoints.length; i++) {
    bytes += Buffer.byteLength(JSON.stringify(endpoints[i])) + 1;
    if (bytes > OBJECT_BYTE_BUDGET) {
      const count = endpoints.length - i;
      drops.push({ reason: 'endpoint-over-size', count, detail: `${count} endpoints over the ${OBJECT_BYTE_BUDGET} byte budget of one object (use endpointMode workloadEntry)` });
      return endpoints.slice(0, i);
    }
  }
  return endpoints;
}

/**
 * Pure translation of one record into the Istio objects registry-bridge writes for it
 * (DESIGN section 3). Bad fields and endpoints are dropped with a reason; the whole service is
 * refused only when its host cannot be written safely or it has no port.
 */
export function translateRecord(record: ServiceRecord, rules: SourceRules): TranslationResult {
  const key = serviceKey({ source: record.source.name, scope: record.scope, service: record.service });
  if (record.source.name !== rules.source || record.source.kind !== rules.kind) {
    return { ok: false, key, reason: 'source-mismatch', detail: `record of ${record.source.kind}/${record.source.name} translated with rules of ${rules.kind}/${rules.source}` };
  }
  if (rules.endpointMode === 'workloadEntry' && rules.namespace === ISTIO_ROOT_NAMESPACE) {
    // Kubernetes Services select WorkloadEntries by label like pods: an instance tagged app=istiod
    // would be put behind istiod's own Service.
    return {
      ok: false,
      key,
      reason: 'namespace-not-allowed',
      detail: `source ${rules.source} writes WorkloadEntries to ${ISTIO_ROOT_NAMESPACE}, where Kubernetes Services would select them by their registry labels; give it a namespace of its own`,
    };
  }
  const hostResult = renderHost(record, rules);
  if (!hostResult.ok) return { ok: false, key, reason: hostResult.reason, detail: hostResult.detail, host: hostResult.host };
  const host = hostResult.host;

  const drops: Drop[] = [];
  const plan = planPorts(record, rules, drops);
  if (plan.ports.length === 0) return { ok: false, key, reason: 'no-ports', detail: `service ${record.service} has no usable port`, host };

  const seenIds = new Set<string>();
  const unique: Endpoint[] = [];
  for (const ep of [...record.endpoints].sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0))) {
    if (seenIds.has(ep.id)) {
      drops.push({ reason: 'endpoint-duplicate', detail: `endpoint ${ep.id}: duplicate id` });
      continue;
    }
    seenIds.add(ep.id);
    unique.push(ep);
  }
  const usable = unique.filter((ep) => classifyAddress(ep.address) !== 'invalid' && !localAddressKind(ep.address));
  const notServing = restrictToServedPorts(usable, plan, drops);
  // Resolution follows every usable endpoint the registry has (healthy or not), so it does not flap with health.
  const anyHostname = usable.some((ep) => classifyAddress(ep.address) === 'hostname');

  const seenTargets = new Set<string>();
  const kept: PlannedEndpoint[] = [];
  for (const ep of unique) {
    if (!rules.includeHealth.includes(ep.health)) {
      drops.push({ reason: 'endpoint-unhealthy', detail: `endpoint ${ep.id}: ${ep.health}` });
      continue;
    }
    const notServed = notServing.get(ep.id);
    if (notServed) {
      drops.push({ reason: 'endpoint-port-not-served', detail: notServed });
      continue;
    }
    const planned = planEndpoint(ep, plan, rules, drops);
    if (!planned) continue;
    const target = canonicalJson({ a: planned.address, p: planned.ports ?? {} });
    if (seenTargets.has(target)) {
      drops.push({ reason: 'endpoint-duplicate', detail: `endpoint ${ep.id}: same address and ports as another endpoint` });
      continue;
    }
    seenTargets.add(target);
    kept.push(planned);
  }

  const inline = rules.endpointMode === 'inline';
  if (inline && kept.length > CRD_LIMITS.inlineEndpoints) {
    const over = kept.splice(CRD_LIMITS.inlineEndpoints);
    drops.push({ reason: 'endpoint-over-limit', count: over.length, detail: `${over.length} endpoints over the inline limit of ${CRD_LIMITS.inlineEndpoints} (use endpointMode workloadEntry)` });
  }

  const name = objectName([record.source.name, record.scope ?? '', record.service], key);
  const commonLabels: Record<string, string> = {
    ...rules.labels,
    [LABELS.managedBy]: MANAGED_BY_VALUE,
    [LABELS.installation]: rules.installation,
    [LABELS.registry]: record.source.kind,
    [LABELS.source]: record.source.name,
  };
  const annotations: Record<string, string> = {
    [ANNOTATIONS.serviceKey]: key,
    [ANNOTATIONS.source]: record.source.name,
    [ANNOTATIONS.service]: record.service,
  };
  if (record.scope) annotations[ANNOTATIONS.scope] = record.scope;

  const spec: IServiceEntry['spec'] = {
    hosts: [host],
    location: rules.location,
    // With no endpoints, DNS resolution would make Istio resolve the host itself (its fallback for
    // a DNS ServiceEntry without endpoints): STATIC with none sends nothing anywhere.
    resolution: anyHostname && kept.length > 0 ? 'DNS' : 'STATIC',
    ports: plan.ports,
    // "." is the object's own namespace; Istio rejects naming it twice.
    exportTo: rules.exportTo.includes('.') ? rules.exportTo.filter((e) => e !== rules.namespace) : [...rules.exportTo],
  };
  const workloadEntries: WorkloadEntryObject[] = [];
  if (inline) {
    const endpoints = kept.map(({ id: _id, ...rest }) => rest);
    spec.endpoints = withinByteBudget(endpoints, { apiVersion: 'networking.istio.io/v1', kind: 'ServiceEntry', metadata: { name, namespace: rules.namespace, labels: commonLabels, annotations }, spec }, drops);
  } else {
    spec.workloadSelector = { labels: { [LABELS.serviceEntry]: name } };
    for (const ep of kept) {
      const { id, ...rest } = ep;
      workloadEntries.push(
        withHash({
          apiVersion: 'networking.istio.io/v1',
          kind: 'WorkloadEntry',
          metadata: {
            name: `${name}-${shortHash(id)}`,
            namespace: rules.namespace,
            labels: { ...commonLabels, [LABELS.serviceEntry]: name },
            annotations: { ...annotations, [ANNOTATIONS.endpointId]: id.slice(0, 256) },
          },
          spec: { ...rest, labels: { ...(rest.labels ?? {}), [LABELS.serviceEntry]: name } },
        }),
      );
    }
  }

  const serviceEntry: ServiceEntryObject = withHash({
    apiVersion: 'networking.istio.io/v1',
    kind: 'ServiceEntry',
    metadata: { name, namespace: rules.namespace, labels: commonLabels, annotations },
    spec,
  });
  const dropCounts: Partial<Record<DropReason, number>> = {};
  for (const d of drops) dropCounts[d.reason] = (dropCounts[d.reason] ?? 0) + (d.count ?? 1);
  return { ok: true, key, host, serviceEntry, workloadEntries, drops: drops.slice(0, MAX_DROPS_LISTED), dropCounts };
}

/**
 * Protocols whose sidecar listener matches on destination address and port only (HTTP is told
 * apart by Host, HTTPS and TLS by SNI): without an address of its own such a port shares the
 * listener `0.0.0.0:<port>` with every other service on that port.
 */
export const ADDRESS_MATCHED_PROTOCOLS: readonly string[] = ['TCP', 'MONGO', 'MYSQL', 'REDIS'];

/**
 * Names of the ports of a (live) ServiceEntry that need an address it does not have yet: none in
 * `spec.addresses` and none allocated by istiod in `status.addresses` (its IP auto-allocation
 * controller, PILOT_ENABLE_IP_AUTOALLOCATE, on by default since Istio 1.25). Resolution NONE never
 * gets one. For the writer's status and metric of TCP entries without an address.
 */
export function portsNeedingAddress(se: { spec?: { ports?: Array<{ name?: string; number?: number; protocol?: string }>; addresses?: string[]; resolution?: string }; status?: unknown }): string[] {
  if (!se.spec || se.spec.resolution === 'NONE') return [];
  const allocated = ((se.status as { addresses?: Array<{ value?: string }> } | undefined)?.addresses ?? []).filter((a) => a?.value);
  if ((se.spec.addresses ?? []).length > 0 || allocated.length > 0) return [];
  return (se.spec.ports ?? []).filter((p) => ADDRESS_MATCHED_PROTOCOLS.includes((p.protocol ?? 'TCP').toUpperCase())).map((p) => p.name ?? String(p.number));
}
