import type { RegistryKind } from '@registry-bridge/contract';
import { DEFAULT_ALLOWED_HOST_SUFFIXES, DEFAULT_CLUSTER_DOMAIN, DEFAULT_HOST_TEMPLATES, SourceRules } from './source-rules';

/** The writer's `defaults:` as translation reads them (the schema is WriterConfig in libs/config). */
export type RuleDefaults = Omit<SourceRules, 'source' | 'kind' | 'installation' | 'hostTemplate' | 'allowedHostSuffixes' | 'deniedHostSuffixes'> & {
  /** Unset: each registry its own. */
  allowedHostSuffixes?: string[];
};

/** One entry of the writer's `sources:`: its kind and any default overridden. */
export type SourceOverrides = { kind: RegistryKind } & Partial<Omit<SourceRules, 'source' | 'kind' | 'installation' | 'deniedHostSuffixes'>>;

/** What translation reads of the writer's config. */
export interface RulesConfig {
  installation: string;
  defaults: RuleDefaults;
  sources: Record<string, SourceOverrides>;
  kubernetes?: { clusterDomain: string };
}

/**
 * Deletions allowed per window (DESIGN section 4): `maxDeletes` or `maxDeletePercent` of the
 * source's services, whichever is larger. One formula for the writer's guard and the CLI's preview.
 */
export function deletionBudget(limits: { maxDeletes: number; maxDeletePercent: number }, total: number): number {
  return Math.max(limits.maxDeletes, Math.floor((Math.max(total, 0) * limits.maxDeletePercent) / 100));
}

/** Resolved translation rules of every configured source. */
export function sourceRules(cfg: RulesConfig): Map<string, SourceRules> {
  const out = new Map<string, SourceRules>();
  for (const [source, s] of Object.entries(cfg.sources)) {
    const d = cfg.defaults;
    out.set(source, {
      source,
      kind: s.kind,
      installation: cfg.installation,
      namespace: s.namespace ?? d.namespace,
      hostTemplate: s.hostTemplate ?? DEFAULT_HOST_TEMPLATES[s.kind],
      allowedHostSuffixes: s.allowedHostSuffixes ?? d.allowedHostSuffixes ?? DEFAULT_ALLOWED_HOST_SUFFIXES[s.kind],
      deniedHostSuffixes: [...new Set([DEFAULT_CLUSTER_DOMAIN, cfg.kubernetes?.clusterDomain ?? DEFAULT_CLUSTER_DOMAIN])],
      allowWildcardHosts: s.allowWildcardHosts ?? d.allowWildcardHosts,
      endpointMode: s.endpointMode ?? d.endpointMode,
      location: s.location ?? d.location,
      exportTo: s.exportTo ?? d.exportTo,
      defaultProtocol: s.defaultProtocol ?? d.defaultProtocol,
      includeHealth: s.includeHealth ?? d.includeHealth,
      network: s.network ?? d.network,
      serviceAccount: s.serviceAccount ?? d.serviceAccount,
      sidecars: s.sidecars ?? d.sidecars,
      labels: { ...d.labels, ...(s.labels ?? {}) },
    });
  }
  return out;
}
