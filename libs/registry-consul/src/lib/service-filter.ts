import { GlobRules } from '@registry-bridge/source-kit';
import type { ConsulSourceConfig } from './consul-source.schema';

type Filters = ConsulSourceConfig['filters'];

export type ServiceSkipReason = 'consul_service' | 'denied' | 'not_allowed' | 'missing_required_tag';

/**
 * Decides from the catalog listing (name and the union of its instances' tags) whether a service is
 * watched at all. Per-instance tag rules are applied again in normalization.
 */
export class ServiceFilter {
  private readonly names: GlobRules;

  constructor(private readonly filters: Filters) {
    this.names = new GlobRules(filters);
  }

  skipReason(name: string, tagUnion: readonly string[] = []): ServiceSkipReason | undefined {
    if (name === 'consul' && !this.filters.includeConsul) return 'consul_service';
    const verdict = this.names.verdict(name);
    if (verdict) return verdict;
    if (this.filters.requiredTags.some((t) => !tagUnion.includes(t))) return 'missing_required_tag';
    return undefined;
  }

  /** Per instance: every required tag present, no forbidden tag. */
  instanceTagsPass(tags: readonly string[]): boolean {
    return this.filters.requiredTags.every((t) => tags.includes(t)) && !this.filters.forbiddenTags.some((t) => tags.includes(t));
  }

  /** Catalog filter sent to Consul: the configured expression, and proxies/gateways left out server-side. */
  catalogExpression(): string | undefined {
    const parts: string[] = [];
    if (this.filters.catalogExpression) parts.push(`(${this.filters.catalogExpression})`);
    if (!this.filters.includeConnect) parts.push('ServiceKind == ""');
    return parts.length ? parts.join(' and ') : undefined;
  }
}
