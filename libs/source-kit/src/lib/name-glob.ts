/** How names compare: Eureka app names are case-insensitive, Consul and Cloud Map names are not. */
export interface GlobOptions {
  ignoreCase?: boolean;
}

/** `*` (any run) and `?` (one character) globs, anchored; everything else is literal. */
export function globToRegExp(glob: string, options: GlobOptions = {}): RegExp {
  const body = glob.replace(/[.+^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '.*').replace(/\?/g, '.');
  return new RegExp(`^${body}$`, options.ignoreCase ? 'i' : '');
}

/** True when any of the globs matches (false for none). */
export function globMatcher(globs: readonly string[] = [], options: GlobOptions = {}): (name: string) => boolean {
  const res = globs.map((g) => globToRegExp(g, options));
  return (name) => res.some((re) => re.test(name));
}

export type GlobVerdict = 'denied' | 'not_allowed';

/** The allow/deny selection every registry source uses: deny wins; an empty allow list allows every name. */
export class GlobRules {
  private readonly allowed: (name: string) => boolean;
  private readonly denied: (name: string) => boolean;
  private readonly anyAllow: boolean;

  constructor(rules: { allow?: readonly string[]; deny?: readonly string[] }, options: GlobOptions = {}) {
    this.allowed = globMatcher(rules.allow, options);
    this.denied = globMatcher(rules.deny, options);
    this.anyAllow = (rules.allow?.length ?? 0) > 0;
  }

  /** Why a name is left out, or undefined when it is selected. */
  verdict(name: string): GlobVerdict | undefined {
    if (this.denied(name)) return 'denied';
    if (this.anyAllow && !this.allowed(name)) return 'not_allowed';
    return undefined;
  }

  passes(name: string): boolean {
    return this.verdict(name) === undefined;
  }
}
