import { Endpoint } from '@registry-bridge/contract';
import { sanitizeLabels } from './endpoint-labels.util';
import { classifyAddress, localAddressKind } from './names';
import { TLS_MODE_LABEL } from './ownership';
import { PortPlan, restrictToServedPorts } from './port-plan.util';
import { CRD_LIMITS, SourceRules } from './source-rules';
import { canonicalJson } from './spec-hash.util';
import type { Drop } from './translation.types';

/** An endpoint as written: inline in the ServiceEntry (without `id`) or as a WorkloadEntry's spec. */
export interface PlannedEndpoint {
  id: string;
  address: string;
  ports?: Record<string, number>;
  labels?: Record<string, string>;
  locality?: string;
  weight?: number;
  network?: string;
  serviceAccount?: string;
}

const byKey = ([a]: [string, unknown], [b]: [string, unknown]) => (a < b ? -1 : a > b ? 1 : 0);

function sortObject<T>(o: Record<string, T>): Record<string, T> {
  return Object.fromEntries(Object.entries(o).sort(byKey));
}

/** One endpoint as written, or undefined (with a reason in `drops`) when its address must not be one. */
export function planEndpoint(ep: Endpoint, plan: PortPlan, rules: Pick<SourceRules, 'serviceAccount' | 'sidecars' | 'network'>, drops: Drop[]): PlannedEndpoint | undefined {
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

/**
 * The endpoints of a record as written, sorted by id: duplicates, unhealthy ones (unless their
 * health is included), those not serving the kept ports and unusable addresses are dropped with a
 * reason, and inline mode is cut at the CRD limit. Restricts `plan` to the ports every kept
 * instance serves. `resolveByDns`: a usable endpoint (healthy or not) is a host name, so the
 * resolution does not flap with health.
 */
export function planEndpoints(endpoints: readonly Endpoint[], plan: PortPlan, rules: SourceRules, drops: Drop[]): { kept: PlannedEndpoint[]; resolveByDns: boolean } {
  const seenIds = new Set<string>();
  const unique: Endpoint[] = [];
  for (const ep of [...endpoints].sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0))) {
    if (seenIds.has(ep.id)) {
      drops.push({ reason: 'endpoint-duplicate', detail: `endpoint ${ep.id}: duplicate id` });
      continue;
    }
    seenIds.add(ep.id);
    unique.push(ep);
  }
  const usable = unique.filter((ep) => classifyAddress(ep.address) !== 'invalid' && !localAddressKind(ep.address));
  const notServing = restrictToServedPorts(usable, plan, drops);
  const resolveByDns = usable.some((ep) => classifyAddress(ep.address) === 'hostname');

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

  if (rules.endpointMode === 'inline' && kept.length > CRD_LIMITS.inlineEndpoints) {
    const over = kept.splice(CRD_LIMITS.inlineEndpoints);
    drops.push({ reason: 'endpoint-over-limit', count: over.length, detail: `${over.length} endpoints over the inline limit of ${CRD_LIMITS.inlineEndpoints} (use endpointMode workloadEntry)` });
  }
  return { kept, resolveByDns };
}
