import { ApiException, KubeConfig, KubernetesObject, PatchStrategy, VersionApi, Watch } from '@kubernetes/client-node';
import { collectPages, PagedListApi } from './paged-list';
import { reuseConnections } from './reuse-connections';
import { TokenBucket } from './token-bucket';

export interface KubeClientOptions {
  /** Path to a kubeconfig; in-cluster config (then the default chain) when absent. */
  kubeconfig?: string;
  context?: string;
  qps: number;
  burst: number;
  /** Attempts for retryable failures (429, 5xx, network errors). */
  maxAttempts: number;
  fieldManager: string;
  /** Objects per list request (`limit`); every page is read. */
  listPageSize?: number;
  /** Called for every request outcome, for metrics. */
  onRequest?: (verb: string, kind: string, outcome: string) => void;
}

export interface KubeObject extends KubernetesObject {
  apiVersion: string;
  kind: string;
  metadata: NonNullable<KubernetesObject['metadata']> & { name: string; namespace?: string };
  spec?: unknown;
}

/** A Kubernetes API error with the HTTP status, so callers can branch on 404/409/403. */
export class KubeError extends Error {
  constructor(
    readonly status: number,
    readonly verb: string,
    readonly target: string,
    detail: string,
  ) {
    super(`${verb} ${target}: HTTP ${status}${detail ? `: ${detail}` : ''}`);
    this.name = 'KubeError';
  }
}

const RETRYABLE = new Set([429, 500, 502, 503, 504]);

function statusOf(err: unknown): number {
  if (err instanceof ApiException) return err.code;
  if (err instanceof KubeError) return err.status;
  return 0; // network error
}

function messageOf(err: unknown): string {
  if (err instanceof ApiException) {
    const body = err.body as unknown;
    if (typeof body === 'string') {
      try {
        return (JSON.parse(body) as { message?: string }).message ?? body.slice(0, 500);
      } catch {
        return body.slice(0, 500);
      }
    }
    if (body && typeof body === 'object' && 'message' in body) return String((body as { message: unknown }).message);
    return err.message.slice(0, 500);
  }
  return err instanceof Error ? err.message : String(err);
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * The only door to the Kubernetes API in registry-bridge: server-side apply with one field
 * manager, client-side rate limiting, and retries with backoff on 429/5xx/network errors.
 */
export class KubeClient {
  private readonly api: PagedListApi;
  private readonly bucket: TokenBucket;

  constructor(
    readonly kubeConfig: KubeConfig,
    private readonly options: KubeClientOptions,
  ) {
    this.api = PagedListApi.forConfig(kubeConfig);
    this.bucket = new TokenBucket(options.qps, options.burst);
  }

  static fromOptions(options: KubeClientOptions): KubeClient {
    const kc = new KubeConfig();
    if (options.kubeconfig) kc.loadFromFile(options.kubeconfig);
    else kc.loadFromDefault();
    if (options.context) kc.setCurrentContext(options.context);
    return new KubeClient(reuseConnections(kc), options);
  }

  get server(): string {
    return this.kubeConfig.getCurrentCluster()?.server ?? '(unknown)';
  }

  private async call<T>(verb: string, kind: string, target: string, fn: () => Promise<T>, retryConflicts = false): Promise<T> {
    let attempt = 0;
    for (;;) {
      attempt += 1;
      await this.bucket.take();
      try {
        const out = await fn();
        this.options.onRequest?.(verb, kind, 'ok');
        return out;
      } catch (err) {
        const status = statusOf(err);
        this.options.onRequest?.(verb, kind, status ? String(status) : 'network');
        const retryable = status === 0 || RETRYABLE.has(status) || (retryConflicts && status === 409);
        if (!retryable || attempt >= this.options.maxAttempts) throw new KubeError(status, verb, target, messageOf(err));
        const base = Math.min(10_000, 200 * 2 ** (attempt - 1));
        await sleep(base / 2 + Math.random() * base);
      }
    }
  }

  async get<T extends KubeObject>(apiVersion: string, kind: string, namespace: string, name: string): Promise<T | undefined> {
    try {
      return await this.call('get', kind, `${kind} ${namespace}/${name}`, () =>
        this.api.read<T>({ apiVersion, kind, metadata: { name, namespace } } as never),
      );
    } catch (err) {
      if (err instanceof KubeError && err.status === 404) return undefined;
      throw err;
    }
  }

  /** Lists all pages. */
  async list<T extends KubeObject>(apiVersion: string, kind: string, namespace: string | undefined, labelSelector?: string): Promise<T[]> {
    return (await this.listWithVersion<T>(apiVersion, kind, namespace, labelSelector)).items;
  }

  /** Lists all pages (`limit`/`continue`) and returns the list's resourceVersion, to start a watch from. */
  async listWithVersion<T extends KubeObject>(apiVersion: string, kind: string, namespace: string | undefined, labelSelector?: string): Promise<{ items: T[]; resourceVersion: string }> {
    const limit = this.options.listPageSize ?? 500;
    return collectPages<T>((continueToken) =>
      this.call('list', kind, `${kind} in ${namespace ?? 'all namespaces'}`, () => this.api.listPage<T>(apiVersion, kind, namespace, { labelSelector, limit, continueToken })),
    );
  }

  /**
   * List-then-watch (an informer without the library): `sync` gets the full list, then `event`
   * every change; a closed watch resumes from the last resourceVersion, an expired one (410)
   * relists. Returns a stop function.
   */
  listWatch<T extends KubeObject>(
    apiVersion: string,
    kind: string,
    plural: string,
    namespace: string,
    handlers: { sync: (items: T[]) => void; event: (type: 'ADDED' | 'MODIFIED' | 'DELETED', obj: T) => void; error: (err: unknown) => void },
  ): () => void {
    let stopped = false;
    let abort: AbortController | undefined;
    const base = apiVersion.includes('/') ? `/apis/${apiVersion}` : `/api/${apiVersion}`;
    // '' watches every namespace
    const path = namespace ? `${base}/namespaces/${namespace}/${plural}` : `${base}/${plural}`;
    const watcher = new Watch(this.kubeConfig);
    const watchOnce = (rv: string) =>
      new Promise<{ rv: string; relist: boolean }>((resolve) => {
        let last = rv;
        let relist = false;
        watcher
          .watch(
            path,
            { resourceVersion: rv, allowWatchBookmarks: true, timeoutSeconds: 240 },
            (phase: string, obj: T & { code?: number }) => {
              if (phase === 'ERROR') {
                relist = true; // usually 410 Gone: our resourceVersion is too old
                abort?.abort();
                return;
              }
              last = obj?.metadata?.resourceVersion ?? last;
              if (phase === 'ADDED' || phase === 'MODIFIED' || phase === 'DELETED') handlers.event(phase, obj);
            },
            (err: unknown) => {
              if (err && !stopped && !relist && (err as { name?: string }).name !== 'AbortError') handlers.error(err);
              resolve({ rv: last, relist: relist || Boolean(err) });
            },
          )
          .then((a) => (abort = a))
          .catch((err: unknown) => {
            handlers.error(err);
            resolve({ rv: last, relist: true });
          });
      });
    const run = async () => {
      let failures = 0;
      while (!stopped) {
        try {
          const { items, resourceVersion } = await this.listWithVersion<T>(apiVersion, kind, namespace || undefined);
          handlers.sync(items);
          failures = 0;
          let rv = resourceVersion;
          for (;;) {
            if (stopped) return;
            await this.bucket.take();
            const out = await watchOnce(rv);
            if (out.relist) break;
            rv = out.rv;
          }
        } catch (err) {
          handlers.error(err);
        }
        if (stopped) return;
        failures += 1;
        await sleep(Math.min(10_000, 250 * 2 ** Math.min(failures, 6)));
      }
    };
    void run();
    return () => {
      stopped = true;
      abort?.abort();
    };
  }

  /** Server-side apply as our field manager; `force` takes over fields someone edited by hand. */
  async apply<T extends KubeObject>(obj: T, opts: { force?: boolean; dryRun?: boolean } = {}): Promise<T> {
    const target = `${obj.kind} ${obj.metadata.namespace}/${obj.metadata.name}`;
    return this.call('apply', obj.kind, target, () =>
      this.api.patch<T>(obj, undefined, opts.dryRun ? 'All' : undefined, this.options.fieldManager, opts.force ?? true, PatchStrategy.ServerSideApply),
    );
  }

  async create<T extends KubeObject>(obj: T): Promise<T> {
    return this.call('create', obj.kind, `${obj.kind} ${obj.metadata.namespace}/${obj.metadata.name}`, () =>
      this.api.create<T>(obj, undefined, undefined, this.options.fieldManager),
    );
  }

  /** Optimistic-concurrency update (resourceVersion in obj); a 409 is returned to the caller. */
  async replace<T extends KubeObject>(obj: T): Promise<T> {
    return this.call('update', obj.kind, `${obj.kind} ${obj.metadata.namespace}/${obj.metadata.name}`, () =>
      this.api.replace<T>(obj, undefined, undefined, this.options.fieldManager),
    );
  }

  /**
   * Deletes with preconditions (uid/resourceVersion) so we never delete an object that was
   * replaced by someone else in between. Returns false when it was already gone.
   */
  async delete(apiVersion: string, kind: string, namespace: string, name: string, preconditions?: { uid?: string; resourceVersion?: string }): Promise<boolean> {
    try {
      await this.call('delete', kind, `${kind} ${namespace}/${name}`, () =>
        this.api.delete({ apiVersion, kind, metadata: { name, namespace } }, undefined, undefined, undefined, undefined, 'Background', preconditions ? { preconditions } : undefined),
      );
      return true;
    } catch (err) {
      if (err instanceof KubeError && err.status === 404) return false;
      throw err;
    }
  }

  /** Cheap reachability check for readiness. */
  async ping(): Promise<string> {
    const api = this.kubeConfig.makeApiClient(VersionApi);
    const v = await this.call('get', 'Version', 'version', () => api.getCode());
    return v.gitVersion;
  }
}
