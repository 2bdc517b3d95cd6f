import { globMatcher, GlobRules } from '@registry-bridge/source-kit';
import type { CloudMapSourceConfig } from './cloudmap-config.schema';

export interface NamespaceLike {
  id: string;
  name: string;
  type?: string;
}

/** Compiled namespace and service selection of one source. */
export class NameFilter {
  private readonly nsNames: Set<string>;
  private readonly nsIds: Set<string>;
  private readonly nsPattern: (name: string) => boolean;
  private readonly anyNsPattern: boolean;
  private readonly nsTypes: Set<string>;
  private readonly services: GlobRules;

  constructor(config: Pick<CloudMapSourceConfig, 'namespaces' | 'services'>) {
    this.nsNames = new Set(config.namespaces.names);
    this.nsIds = new Set(config.namespaces.ids);
    this.nsPattern = globMatcher(config.namespaces.patterns);
    this.anyNsPattern = config.namespaces.patterns.length > 0;
    this.nsTypes = new Set(config.namespaces.types);
    this.services = new GlobRules(config.services);
  }

  /** A namespace is read when its type is selected and (no selector is set, or any selector matches). */
  namespace(ns: NamespaceLike): boolean {
    if (ns.type && !this.nsTypes.has(ns.type)) return false;
    const anySelector = this.nsNames.size > 0 || this.nsIds.size > 0 || this.anyNsPattern;
    if (!anySelector) return true;
    return this.nsNames.has(ns.name) || this.nsIds.has(ns.id) || this.nsPattern(ns.name);
  }

  service(name: string): boolean {
    return this.services.passes(name);
  }
}
