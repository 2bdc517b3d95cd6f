// One driver per registry for the suites that run the same proof on Consul, Eureka and Cloud Map:
// register an instance, flip its health, deregister it, and the collector config of a source.
// Each source of a test has a tag; its services' names (and so its hosts) carry the test id and
// the tag, so sources never claim each other's services and hosts never collide across runs.
import { DeregisterInstanceCommand, RegisterInstanceCommand, ServiceDiscoveryClient } from '@aws-sdk/client-servicediscovery';
import { cloudMapClient, cloudMapHealth, cloudMapNamespace, cloudMapService, eurekaInstance, type PeersEnv } from '@registry-bridge/test-peers';
import { isIP } from 'node:net';
import type { AppName } from './pipeline';

export type RegistryKind = 'consul' | 'eureka' | 'cloudmap';
/** What the registry says about the port: grpc and http set the protocol metadata, tcp is none (or "tcp" where none means HTTP). */
export type Proto = 'grpc' | 'http' | 'tcp';

export interface Instance {
  id: string;
  /** An IP, or a host name (the writer then writes resolution DNS). */
  address: string;
  port: number;
  protocol: Proto;
  healthy: boolean;
}

export interface CollectorSetup {
  config: Record<string, unknown>;
  env?: NodeJS.ProcessEnv;
}

export interface RegistryDriver {
  readonly kind: RegistryKind;
  readonly collector: AppName;
  readonly peerNames: Array<'consul' | 'eureka' | 'cloudMap'>;
  /** A substring of every host this driver's services get (xds-probe's -match). */
  readonly match: string;
  init(peers: PeersEnv): Promise<void>;
  host(tag: string, svc: string): string;
  /** The collector's config for sources `{ name, tag }` on Redis `prefix`. */
  collectorSetup(peers: PeersEnv, prefix: string, sources: Array<{ name: string; tag: string }>): CollectorSetup;
  register(tag: string, svc: string, i: Instance): Promise<void>;
  setHealthy(tag: string, svc: string, instanceId: string, healthy: boolean): Promise<void>;
  deregister(tag: string, svc: string, instanceId: string): Promise<void>;
  /**
   * Whether a deregistration reaches the pipeline: not on moto, whose InstancesRevision is a sum
   * of per-instance counters that goes down when an instance leaves, so the pipeline drops that
   * record as older than the last (latest revision wins); AWS's only grows.
   */
  readonly deregistrationVisible: boolean;
  cleanup(): Promise<void>;
}

async function ok(r: Response, what: string): Promise<void> {
  if (!r.ok) throw new Error(`${what}: ${r.status} ${await r.text()}`);
}

export function consulDriver(id: string): RegistryDriver {
  let addr = '';
  const registered = new Set<string>();
  const name = (tag: string, svc: string) => `e2e${id}-${tag}-${svc}`;
  const put = async (path: string, body?: unknown) =>
    ok(await fetch(`${addr}${path}`, { method: 'PUT', body: body === undefined ? undefined : JSON.stringify(body) }), `consul ${path}`);
  return {
    kind: 'consul',
    collector: 'collector-consul',
    peerNames: ['consul'],
    match: `e2e${id}-`,
    deregistrationVisible: true,
    async init(peers) {
      addr = peers.consul.addr;
    },
    host: (tag, svc) => `${name(tag, svc)}.service.consul`,
    collectorSetup: (peers, prefix, sources) => ({
      config: {
        redis: { url: peers.redisUrl, prefix },
        collector: { heartbeatSeconds: 2 },
        sources: sources.map((s) => ({ name: s.name, address: peers.consul.addr, filters: { allow: [`e2e${id}-${s.tag}-*`] }, watch: { waitSeconds: 10, snapshotIntervalSeconds: 5 } })),
      },
    }),
    async register(tag, svc, i) {
      const sid = `${name(tag, svc)}-${i.id}`;
      await put('/v1/agent/service/register', {
        Name: name(tag, svc),
        ID: sid,
        Address: i.address,
        Port: i.port,
        Meta: i.protocol === 'tcp' ? {} : { protocol: i.protocol },
        Check: { CheckID: `check-${sid}`, TTL: '600s', Status: i.healthy ? 'passing' : 'critical' },
      });
      registered.add(sid);
    },
    setHealthy: (tag, svc, iid, healthy) => put(`/v1/agent/check/${healthy ? 'pass' : 'fail'}/check-${name(tag, svc)}-${iid}`),
    async deregister(tag, svc, iid) {
      await put(`/v1/agent/service/deregister/${name(tag, svc)}-${iid}`);
      registered.delete(`${name(tag, svc)}-${iid}`);
    },
    async cleanup() {
      for (const sid of registered) await put(`/v1/agent/service/deregister/${sid}`).catch(() => undefined);
    },
  };
}

export function eurekaDriver(id: string): RegistryDriver {
  let url = '';
  const registered: Array<[string, string]> = [];
  const app = (tag: string, svc: string) => `E2E${id}-${tag}-${svc}`.toUpperCase();
  const call = async (method: string, path: string, body?: unknown) =>
    ok(
      await fetch(`${url}/apps/${path}`, { method, headers: { 'content-type': 'application/json', accept: 'application/json' }, body: body === undefined ? undefined : JSON.stringify(body) }),
      `eureka ${method} ${path}`,
    );
  return {
    kind: 'eureka',
    collector: 'collector-eureka',
    peerNames: ['eureka'],
    match: `e2e${id}-`,
    deregistrationVisible: true,
    async init(peers) {
      url = peers.eureka.url;
    },
    host: (tag, svc) => `${app(tag, svc).toLowerCase()}.eureka`,
    collectorSetup: (peers, prefix, sources) => ({
      config: {
        redis: { url: peers.redisUrl, prefix },
        collector: { heartbeatSeconds: 2 },
        sources: sources.map((s) => ({ name: s.name, serviceUrls: [peers.eureka.url], pollIntervalSeconds: 1, apps: { allow: [`E2E${id.toUpperCase()}-${s.tag.toUpperCase()}-*`] } })),
      },
    }),
    async register(tag, svc, i) {
      const a = app(tag, svc);
      await call(
        'POST',
        a,
        eurekaInstance(a, i.id, i.address, {
          // a host name instance: Eureka wants some ipAddr; one that is no IP makes the collector take hostName
          hostName: isIP(i.address) ? `${i.id}.example.internal` : i.address,
          status: i.healthy ? 'UP' : 'DOWN',
          port: { $: i.port, '@enabled': 'true' },
          securePort: { $: 8443, '@enabled': 'false' },
          leaseInfo: { durationInSecs: 3600, renewalIntervalInSecs: 30 },
          // Eureka's port is HTTP unless the instance says otherwise
          metadata: { protocol: i.protocol },
        }),
      );
      registered.push([a, i.id]);
    },
    setHealthy: (tag, svc, iid, healthy) => call('PUT', `${app(tag, svc)}/${iid}/status?value=${healthy ? 'UP' : 'DOWN'}`),
    deregister: (tag, svc, iid) => call('DELETE', `${app(tag, svc)}/${iid}`),
    async cleanup() {
      for (const [a, i] of registered) await call('DELETE', `${a}/${i}`).catch(() => undefined);
    },
  };
}

// the one Cloud Map test client (libs/test-peers), as the specs here call it
export { cloudMapClient, cloudMapHealth, cloudMapNamespace, cloudMapService };

export function cloudMapDriver(id: string, tags: string[]): RegistryDriver {
  let sd: ServiceDiscoveryClient | undefined;
  const nsIds: Record<string, string> = {};
  const services: Record<string, string> = {};
  // the writer's default host allow-list takes .local
  const cmNamespace = (tag: string) => `e2e${id}${tag}.local`;
  const client = (): ServiceDiscoveryClient => {
    if (!sd) throw new Error('cloudMapDriver: init first');
    return sd;
  };
  const serviceId = async (tag: string, svc: string): Promise<string> => {
    const k = `${tag}/${svc}`;
    services[k] ??= await cloudMapService(client(), nsIds[tag], svc);
    return services[k];
  };
  return {
    kind: 'cloudmap',
    collector: 'collector-cloudmap',
    peerNames: ['cloudMap'],
    match: `e2e${id}`,
    deregistrationVisible: false,
    async init(peers) {
      sd = cloudMapClient(peers);
      for (const tag of tags) nsIds[tag] = await cloudMapNamespace(sd, cmNamespace(tag));
    },
    host: (tag, svc) => `${svc}.${cmNamespace(tag)}`,
    collectorSetup: (peers, prefix, sources) => ({
      config: {
        redis: { url: peers.redisUrl, prefix },
        collector: { heartbeatSeconds: 2 },
        sources: sources.map((s) => cloudMapSource(peers, s.name, [cmNamespace(s.tag)])),
      },
      env: { AWS_ACCESS_KEY_ID: peers.cloudMap.accessKeyId, AWS_SECRET_ACCESS_KEY: peers.cloudMap.secretAccessKey },
    }),
    async register(tag, svc, i) {
      const ServiceId = await serviceId(tag, svc);
      const Attributes: Record<string, string> = { [isIP(i.address) ? 'AWS_INSTANCE_IPV4' : 'AWS_INSTANCE_CNAME']: i.address, AWS_INSTANCE_PORT: String(i.port) };
      if (i.protocol !== 'tcp') Attributes['protocol'] = i.protocol;
      await client().send(new RegisterInstanceCommand({ ServiceId, InstanceId: i.id, Attributes }));
      if (!i.healthy) await cloudMapHealth(client(), ServiceId, i.id, 'UNHEALTHY');
    },
    async setHealthy(tag, svc, iid, healthy) {
      await cloudMapHealth(client(), await serviceId(tag, svc), iid, healthy ? 'HEALTHY' : 'UNHEALTHY');
    },
    async deregister(tag, svc, iid) {
      await client().send(new DeregisterInstanceCommand({ ServiceId: await serviceId(tag, svc), InstanceId: iid }));
    },
    async cleanup() {
      sd?.destroy();
    },
  };
}

/** A collector-cloudmap source on moto with quick cadences (inventory 3 s, revisions and health 1 s). */
export function cloudMapSource(peers: PeersEnv, name: string, namespaces: string[]): Record<string, unknown> {
  return {
    name,
    region: peers.cloudMap.region,
    endpoint: peers.cloudMap.endpoint,
    verifyServiceNamespace: true,
    namespaces: { names: namespaces },
    budget: { GetService: { rps: 500 } },
    intervals: { inventorySeconds: 3, revisionSeconds: 1, healthSeconds: 1 },
  };
}
