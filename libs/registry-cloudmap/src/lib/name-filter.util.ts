import type { CloudMapSourceConfig } from './cloudmap-config.schema';

/** Glob (`*` any run, `?` one character) to an anchored regular expression. */
export function globToRegExp(glob: string): RegExp {
  const body = glob.replace(/[.+^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '.*').replace(/\?/g, '.');
  return new RegExp(`^${body}$`);
}

export interface NamespaceLike {
  id: string;
  name: string;
  type?: string;
}

/** Compiled namespace and service selection of one source. */
export class NameFilter {
  private readonly nsNames: Set<string>;
  private readonly nsIds: Set<string>;
  private readonly nsPatterns: RegExp[];
  private readonly nsTypes: Set<string>;
  private readonly allow: RegExp[];
  private readonly deny: RegExp[];

  constructor(config: Pick<CloudMapSourceConfig, 'namespaces' | 'services'>) {
    this.nsNames = new Set(config.namespaces.names);
    this.nsIds = new Set(config.namespaces.ids);
    this.nsPatterns = config.namespaces.patterns.map(globToRegExp);
    this.nsTypes = new Set(config.namespaces.types);
    this.allow = config.services.allow.map(globToRegExp);
    this.deny = config.services.deny.map(globToRegExp);
  }

  /** A namespace is read when its type is selected and (no selector is set, or any selector matches). */
  namespace(ns: NamespaceLike): boolean {
    if (ns.type && !this.nsTypes.has(ns.type)) return false;
    const anySelector = this.nsNames.size > 0 || this.nsIds.size > 0 || this.nsPatterns.length > 0;
    if (!anySelector) return true;
    return this.nsNames.has(ns.name) || this.nsIds.has(ns.id) || this.nsPatterns.some((re) => re.test(ns.name));
  }

  service(name: string): boolean {
    if (this.deny.some((re) => re.test(name))) return false;
    return this.allow.length === 0 || this.allow.some((re) => re.test(name));
  }
}
