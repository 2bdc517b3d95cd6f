import type { IServiceEntry } from '@kubernetes-models/istio/networking.istio.io/v1/ServiceEntry';
import { ServiceRecord, serviceKey } from '@registry-bridge/contract';
import { planEndpoints } from './endpoint-plan.util';
import { renderHost } from './host-template.util';
import { objectName, shortHash } from './names';
import { withinByteBudget } from './object-budget.util';
import { ANNOTATIONS, LABELS, MANAGED_BY_VALUE } from './ownership';
import { planPorts } from './port-plan.util';
import { SourceRules } from './source-rules';
import { withHash } from './spec-hash.util';
import type { Drop, DropReason, ServiceEntryObject, TranslationResult, WorkloadEntryObject } from './translation.types';


/** The mesh's root namespace: Kubernetes Services there (istiod, gateways) select by labels such as `app`. */
export const ISTIO_ROOT_NAMESPACE = 'istio-system';

const MAX_DROPS_LISTED = 50;

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
  const { kept, resolveByDns } = planEndpoints(record.endpoints, plan, rules, drops);

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
    resolution: resolveByDns && kept.length > 0 ? 'DNS' : 'STATIC',
    ports: plan.ports,
    // "." is the object's own namespace; Istio rejects naming it twice.
    exportTo: rules.exportTo.includes('.') ? rules.exportTo.filter((e) => e !== rules.namespace) : [...rules.exportTo],
  };
  const workloadEntries: WorkloadEntryObject[] = [];
  if (rules.endpointMode === 'inline') {
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
