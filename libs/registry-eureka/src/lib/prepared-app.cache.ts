import { serviceKey, type SourceRef } from '@registry-bridge/contract';
import { contentHash, GlobRules } from '@registry-bridge/source-kit';
import { normalizeApp, type DropCounts, type NormalizeOptions, type NormalizedApp } from './eureka-normalizer';
import type { LocalRegistry } from './local-registry';

export interface AppFilterOptions {
  /** Only these apps (globs, case-insensitive); empty or absent means all. */
  include?: readonly string[];
  /** Never these apps (globs); wins over include. */
  exclude?: readonly string[];
}

/** One app of the local copy: filtered out, normalized to nothing (its drops say why), or a record with its key and content hash. */
export type PreparedApp =
  | { included: false }
  | { included: true; app?: undefined; drops: DropCounts }
  | { included: true; app: NormalizedApp; drops: DropCounts; key: string; contentHash: string };

/**
 * The apps of the local copy, filtered, normalized and hashed. normalizeApp is pure, so an entry
 * stays right until the app's instances change: a delta drops the entries of the apps it touched,
 * a full fetch drops them all. Filter and normalize options are fixed for the cache's life (a
 * config change restarts the collector), so they never invalidate an entry.
 */
export class PreparedAppCache {
  private readonly filter: GlobRules;
  private readonly prepared = new Map<string, PreparedApp>();

  constructor(
    private readonly local: LocalRegistry,
    private readonly source: SourceRef,
    private readonly normalizeOptions: NormalizeOptions,
    apps: AppFilterOptions = {},
  ) {
    this.filter = new GlobRules({ allow: apps.include, deny: apps.exclude }, { ignoreCase: true });
  }

  /** The app normalized and hashed, from the cache unless its instances changed since. */
  get(appName: string): PreparedApp {
    let prepared = this.prepared.get(appName);
    if (prepared) return prepared;
    if (!this.filter.passes(appName)) {
      prepared = { included: false };
    } else {
      const { app, drops } = normalizeApp(appName, this.local.instances(appName), this.normalizeOptions);
      prepared = app
        ? {
            included: true,
            app,
            drops,
            key: serviceKey({ source: this.source.name, service: app.service }),
            contentHash: contentHash({ source: this.source, service: app.service, ports: app.ports, endpoints: app.endpoints, metadata: app.metadata }),
          }
        : { included: true, drops };
    }
    this.prepared.set(appName, prepared);
    return prepared;
  }

  /** These apps changed in the local copy; every other entry is still right. */
  invalidate(appNames: Iterable<string>): void {
    for (const app of appNames) this.prepared.delete(app);
  }

  clear(): void {
    this.prepared.clear();
  }
}
