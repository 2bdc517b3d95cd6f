/** Glob (`*`, `?`) over app names, case-insensitive as Eureka app names are. */
export function globToRegExp(glob: string): RegExp {
  const body = glob.replace(/[.+^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '.*').replace(/\?/g, '.');
  return new RegExp(`^${body}$`, 'i');
}

export interface AppFilterOptions {
  /** Only these apps (globs); empty or absent means all. */
  include?: readonly string[];
  /** Never these apps (globs); wins over include. */
  exclude?: readonly string[];
}

export function createAppFilter(options: AppFilterOptions = {}): (app: string) => boolean {
  const include = (options.include ?? []).map(globToRegExp);
  const exclude = (options.exclude ?? []).map(globToRegExp);
  return (app) => (include.length === 0 || include.some((r) => r.test(app))) && !exclude.some((r) => r.test(app));
}
