import { HttpMethod, KubeConfig, KubernetesObject, KubernetesObjectApi, ResponseContext } from '@kubernetes/client-node';

/** One page of a list as the API server sent it. */
export interface ListPage<T> {
  items: T[];
  metadata: { resourceVersion?: string; continue?: string };
}

export interface ListPageQuery {
  labelSelector?: string;
  limit: number;
  continueToken?: string;
}

/** A type name that the library's serializer does not know; it marks a list read by `listPage`. */
const RAW_LIST = 'registry-bridge:raw-list';

/**
 * KubernetesObjectApi whose `listPage` returns the list as the API server sent it.
 * @kubernetes/client-node (1.x and 2.0.1 alike) deserializes a custom-resource list as a generic
 * KubernetesObject, whose `metadata` keeps only ObjectMeta fields: the list's `continue` token is
 * dropped, so a paged list would stop after its first page. Here the request is the library's own
 * `list` request (path discovery, auth, connection handling); only the decoding of the answer differs.
 */
export class PagedListApi extends KubernetesObjectApi {
  static forConfig(kc: KubeConfig): PagedListApi {
    const api = kc.makeApiClient(PagedListApi);
    api.setDefaultNamespace(kc);
    return api;
  }

  async listPage<T>(apiVersion: string, kind: string, namespace: string | undefined, query: ListPageQuery): Promise<ListPage<T>> {
    const path = await this.specUriPath({ apiVersion, kind, metadata: { namespace } }, 'list');
    const ctx = this.configuration.baseServer.makeRequestContext(path, HttpMethod.GET);
    ctx.setHeaderParam('Accept', 'application/json');
    if (query.labelSelector) ctx.setQueryParam('labelSelector', query.labelSelector);
    ctx.setQueryParam('limit', String(query.limit));
    if (query.continueToken) ctx.setQueryParam('continue', query.continueToken);
    return this.requestPromise(ctx, RAW_LIST) as unknown as Promise<ListPage<T>>;
  }

  protected override async processResponse<R extends KubernetesObject>(response: ResponseContext, type?: string): Promise<R> {
    const ok = response.httpStatusCode >= 200 && response.httpStatusCode <= 299;
    if (type !== RAW_LIST || !ok) return super.processResponse<R>(response, type === RAW_LIST ? undefined : type);
    const list = JSON.parse(await response.body.text()) as ListPage<unknown>;
    if (!Array.isArray(list.items)) throw new Error(`a list request answered without items (kind ${String((list as { kind?: unknown }).kind)})`);
    return { ...list, metadata: list.metadata ?? {} } as unknown as R;
  }
}

/**
 * Reads every page (`limit`/`continue`) and returns all items with the resourceVersion of the
 * list, to start a watch from. A continue token that expires mid-list (410 Gone) fails the whole
 * list: a half-read list never reads as the full one.
 */
export async function collectPages<T>(fetchPage: (continueToken: string | undefined) => Promise<ListPage<T>>): Promise<{ items: T[]; resourceVersion: string }> {
  const items: T[] = [];
  let resourceVersion = '';
  let token: string | undefined;
  do {
    const page = await fetchPage(token);
    items.push(...page.items);
    resourceVersion = page.metadata.resourceVersion ?? resourceVersion;
    token = page.metadata.continue || undefined;
  } while (token);
  return { items, resourceVersion };
}
