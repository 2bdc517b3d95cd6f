import { REGISTRY_KINDS, RegistryKind, ServiceRecord } from '@registry-bridge/contract';
import { isDns1123Subdomain, sanitizeLabelPart } from './names';
import { DEFAULT_CLUSTER_DOMAIN, SourceRules } from './source-rules';
import type { RefusalReason } from './translation.types';

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
