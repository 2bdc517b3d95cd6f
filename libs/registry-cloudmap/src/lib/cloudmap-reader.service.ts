import {
  DiscoverInstancesCommand,
  DiscoverInstancesRevisionCommand,
  GetServiceCommand,
  paginateGetInstancesHealthStatus,
  paginateListInstances,
  paginateListNamespaces,
  paginateListServices,
  ServiceDiscoveryClient,
  ServiceSummary,
} from '@aws-sdk/client-servicediscovery';
import type { CloudMapServiceRef, RawInstance } from './cloudmap-normalize.util';
import type { NameFilter } from './name-filter.util';

/** Page size of the List* APIs (their maximum). */
const PAGE_SIZE = 100;

export interface NamespaceInfo {
  id: string;
  name: string;
  type?: string;
}

export interface InstancesRead {
  instances: RawInstance[];
  revision: number;
  /** DiscoverInstances returned a full page, so the control-plane listing was used. */
  viaListing: boolean;
}

function healthCheckOf(s: Pick<ServiceSummary, 'HealthCheckConfig' | 'HealthCheckCustomConfig'>): CloudMapServiceRef['healthCheck'] {
  if (s.HealthCheckCustomConfig) return 'custom';
  if (s.HealthCheckConfig) return 'route53';
  return 'none';
}

/** Runs fn over items, at most n at a time; results in input order. */
export async function mapPool<T, R>(items: T[], n: number, fn: (item: T) => Promise<R>): Promise<R[]> {
  const out = new Array<R>(items.length);
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const i = next++;
      out[i] = await fn(items[i]);
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, Math.min(n, items.length)) }, worker));
  return out;
}

/** Read-only Cloud Map calls with full pagination. Every request goes through the client's budget. */
export class CloudMapReader {
  /** Service id -> namespace id, resolved by GetService; immutable in Cloud Map, so cached. */
  private readonly namespaceOfService = new Map<string, string>();

  constructor(
    private readonly client: ServiceDiscoveryClient,
    private readonly options: { verifyServiceNamespace?: boolean; concurrency?: number } = {},
  ) {}

  async listNamespaces(): Promise<NamespaceInfo[]> {
    const out: NamespaceInfo[] = [];
    for await (const page of paginateListNamespaces({ client: this.client, pageSize: PAGE_SIZE }, {})) {
      for (const ns of page.Namespaces ?? []) {
        if (ns.Id && ns.Name) out.push({ id: ns.Id, name: ns.Name, type: ns.Type });
      }
    }
    return out;
  }

  async listServices(namespaceId: string): Promise<ServiceSummary[]> {
    const out: ServiceSummary[] = [];
    const input = { Filters: [{ Name: 'NAMESPACE_ID' as const, Values: [namespaceId], Condition: 'EQ' as const }] };
    for await (const page of paginateListServices({ client: this.client, pageSize: PAGE_SIZE }, input)) {
      out.push(...(page.Services ?? []));
    }
    return out;
  }

  /**
   * Every selected service of every selected namespace. Throws unless every page was read:
   * a partial inventory must never reach a snapshot.
   */
  async inventory(filter: NameFilter): Promise<CloudMapServiceRef[]> {
    const namespaces = (await this.listNamespaces()).filter((ns) => filter.namespace(ns));
    const byId = new Map<string, { summary: ServiceSummary; namespaces: NamespaceInfo[] }>();
    for (const ns of namespaces) {
      for (const s of await this.listServices(ns.id)) {
        if (!s.Id || !s.Name) continue;
        const entry = byId.get(s.Id) ?? { summary: s, namespaces: [] };
        entry.namespaces.push(ns);
        byId.set(s.Id, entry);
      }
    }
    // ServiceSummary carries no namespace id. A service listed under two namespaces (an API that
    // ignored the filter, as moto does) is resolved by GetService once and cached.
    const entries = [...byId].filter(([, { summary }]) => filter.service(summary.Name as string));
    const resolved = await mapPool(entries, this.options.concurrency ?? 8, async ([id, { namespaces: listedIn }]) =>
      listedIn.length > 1 || this.options.verifyServiceNamespace ? listedIn.find((n) => n.id === this.namespaceOfService.get(id)) ?? (await this.resolveIn(id, listedIn)) : listedIn[0],
    );
    // Keep resolutions of every listed service (not only the selected ones), or they are re-resolved each time.
    for (const id of this.namespaceOfService.keys()) if (!byId.has(id)) this.namespaceOfService.delete(id);
    const refs: CloudMapServiceRef[] = [];
    for (const [i, [id, { summary }]] of entries.entries()) {
      const ns = resolved[i];
      if (!ns) continue;
      refs.push({
        id,
        name: summary.Name as string,
        arn: summary.Arn,
        namespaceId: ns.id,
        namespaceName: ns.name,
        namespaceType: ns.type,
        healthCheck: healthCheckOf(summary),
      });
    }
    return refs;
  }

  private async resolveIn(serviceId: string, listedIn: NamespaceInfo[]): Promise<NamespaceInfo | undefined> {
    const nsId = await this.resolveNamespace(serviceId);
    return listedIn.find((n) => n.id === nsId);
  }

  private async resolveNamespace(serviceId: string): Promise<string | undefined> {
    const cached = this.namespaceOfService.get(serviceId);
    if (cached) return cached;
    const out = await this.client.send(new GetServiceCommand({ Id: serviceId }));
    const nsId = out.Service?.NamespaceId;
    if (nsId) this.namespaceOfService.set(serviceId, nsId);
    return nsId;
  }

  async revision(ref: Pick<CloudMapServiceRef, 'namespaceName' | 'name'>): Promise<number> {
    const out = await this.client.send(new DiscoverInstancesRevisionCommand({ NamespaceName: ref.namespaceName, ServiceName: ref.name }));
    return out.InstancesRevision ?? 0;
  }

  /**
   * DiscoverInstances with every health status (health is mapped here, not filtered by AWS).
   * It has no pagination: a full page may be truncated, so then the paginated control-plane
   * ListInstances + GetInstancesHealthStatus are read instead.
   */
  async instances(ref: CloudMapServiceRef, maxResults: number): Promise<InstancesRead> {
    const out = await this.client.send(
      new DiscoverInstancesCommand({ NamespaceName: ref.namespaceName, ServiceName: ref.name, MaxResults: maxResults, HealthStatus: 'ALL' }),
    );
    const found = out.Instances ?? [];
    const revision = out.InstancesRevision ?? 0;
    if (found.length < maxResults) {
      return {
        instances: found.filter((i) => i.InstanceId).map((i) => ({ id: i.InstanceId as string, attributes: i.Attributes ?? {}, healthStatus: i.HealthStatus })),
        revision,
        viaListing: false,
      };
    }
    const instances: RawInstance[] = [];
    for await (const page of paginateListInstances({ client: this.client, pageSize: PAGE_SIZE }, { ServiceId: ref.id })) {
      for (const i of page.Instances ?? []) if (i.Id) instances.push({ id: i.Id, attributes: i.Attributes ?? {} });
    }
    if (ref.healthCheck !== 'none') {
      const status = new Map<string, string>();
      for await (const page of paginateGetInstancesHealthStatus({ client: this.client, pageSize: PAGE_SIZE }, { ServiceId: ref.id })) {
        for (const [id, s] of Object.entries(page.Status ?? {})) status.set(id, s);
      }
      for (const i of instances) i.healthStatus = status.get(i.id);
    }
    return { instances, revision, viaListing: true };
  }
}
