import { isIPv4, isIPv6 } from 'node:net';
import { Endpoint, Health, LIMITS, Port, ServiceRecordInput } from '@registry-bridge/contract';

/** What the inventory knows about a Cloud Map service. */
export interface CloudMapServiceRef {
  id: string;
  name: string;
  arn?: string;
  namespaceId: string;
  namespaceName: string;
  namespaceType?: string;
  /** `none`: no health checking configured, Cloud Map treats every instance as routable. */
  healthCheck: 'none' | 'route53' | 'custom';
}

/** One instance as DiscoverInstances (or ListInstances + GetInstancesHealthStatus) returns it. */
export interface RawInstance {
  id: string;
  attributes: Record<string, string>;
  /** HEALTHY | UNHEALTHY | UNKNOWN, as reported. */
  healthStatus?: string;
}

export interface NormalizeContext {
  source: string;
  /** Region of the source, the locality fallback. */
  region: string;
  protocolAttribute: string;
  observedAt: string;
}

export const DROP_REASONS = [
  'bad-instance-id',
  'duplicate-instance',
  'no-address',
  'bad-address',
  'bad-port',
  'bad-protocol',
  'bad-locality',
  'bad-health-attribute',
  'label-too-long',
  'bad-label-key',
  'too-many-labels',
  'too-many-endpoints',
] as const;
export type DropReason = (typeof DROP_REASONS)[number];
export type DropCounts = Partial<Record<DropReason, number>>;

/** Attributes with a meaning of their own; every other attribute becomes a label. */
export const RESERVED_ATTRIBUTES = [
  'AWS_INSTANCE_IPV4',
  'AWS_INSTANCE_IPV6',
  'AWS_INSTANCE_CNAME',
  'AWS_INSTANCE_PORT',
  'AWS_ALIAS_DNS_NAME',
  'AWS_INIT_HEALTH_STATUS',
  'AVAILABILITY_ZONE',
  'REGION',
] as const;

const PROTOCOLS = new Set(['HTTP', 'HTTPS', 'HTTP2', 'GRPC', 'GRPC-WEB', 'TCP', 'TLS', 'MONGO', 'MYSQL', 'REDIS', 'UDP']);
const HOST_LABEL = /^[a-z0-9_]([a-z0-9_-]{0,61}[a-z0-9_])?$/;
const LOCALITY_PART = /^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$/;
/** Fallback port name when the instance names no protocol. */
export const DEFAULT_PORT_NAME = 'port';

export function isHostname(value: string): boolean {
  const host = value.endsWith('.') ? value.slice(0, -1) : value;
  if (host.length === 0 || host.length > 253) return false;
  return host.split('.').every((label) => HOST_LABEL.test(label));
}

/** First usable address: IPv4, then IPv6, then CNAME, then an alias DNS name. A bad one is skipped and counted. */
export function pickAddress(attrs: Record<string, string>, drops: DropReason[]): string | undefined {
  const candidates: Array<[string, (v: string) => boolean, (v: string) => string]> = [
    ['AWS_INSTANCE_IPV4', isIPv4, (v) => v],
    ['AWS_INSTANCE_IPV6', (v) => isIPv6(v) && !v.includes('%'), (v) => v.toLowerCase()],
    ['AWS_INSTANCE_CNAME', (v) => isHostname(v.toLowerCase()), (v) => v.toLowerCase().replace(/\.$/, '')],
    ['AWS_ALIAS_DNS_NAME', (v) => isHostname(v.toLowerCase()), (v) => v.toLowerCase().replace(/\.$/, '')],
  ];
  for (const [key, valid, clean] of candidates) {
    const raw = attrs[key]?.trim();
    if (raw === undefined || raw === '') continue;
    if (valid(raw)) return clean(raw);
    drops.push('bad-address');
  }
  return undefined;
}

export function parsePort(raw: string | undefined, drops: DropReason[]): number | undefined {
  if (raw === undefined || raw.trim() === '') return undefined;
  const text = raw.trim();
  const n = /^\d{1,5}$/.test(text) ? Number(text) : NaN;
  if (Number.isInteger(n) && n >= 1 && n <= 65535) return n;
  drops.push('bad-port');
  return undefined;
}

/**
 * Reported health wins; UNKNOWN (or none) falls back to AWS_INIT_HEALTH_STATUS, and a service
 * without any health check is routable as Cloud Map itself treats it.
 */
export function mapHealth(reported: string | undefined, initStatus: string | undefined, healthCheck: CloudMapServiceRef['healthCheck'], drops: DropReason[]): Health {
  if (reported === 'HEALTHY') return 'healthy';
  if (reported === 'UNHEALTHY') return 'unhealthy';
  if (healthCheck === 'none') return 'healthy';
  if (initStatus !== undefined) {
    if (initStatus === 'HEALTHY') return 'healthy';
    if (initStatus === 'UNHEALTHY') return 'unhealthy';
    drops.push('bad-health-attribute');
  }
  return 'unknown';
}

/** `region/zone` from REGION and AVAILABILITY_ZONE; the region falls back to the zone's, then the source's. */
export function mapLocality(attrs: Record<string, string>, sourceRegion: string, drops: DropReason[]): string | undefined {
  const zoneRaw = attrs['AVAILABILITY_ZONE']?.trim().toLowerCase();
  const regionRaw = attrs['REGION']?.trim().toLowerCase();
  let zone: string | undefined;
  if (zoneRaw) {
    if (LOCALITY_PART.test(zoneRaw)) zone = zoneRaw;
    else drops.push('bad-locality');
  }
  let region: string | undefined;
  if (regionRaw) {
    if (LOCALITY_PART.test(regionRaw)) region = regionRaw;
    else drops.push('bad-locality');
  }
  // An AZ name is its Region plus a letter (eu-west-1a); AZ ids (euw1-az1) do not carry it.
  region ??= zone && /^[a-z]{2}(-[a-z]+)+-\d+[a-z]$/.test(zone) ? zone.slice(0, -1) : sourceRegion;
  if (!region) return undefined;
  return zone ? `${region}/${zone}` : region;
}

export function mapProtocol(raw: string | undefined, drops: DropReason[]): string | undefined {
  if (raw === undefined || raw.trim() === '') return undefined;
  const p = raw.trim().toUpperCase();
  if (PROTOCOLS.has(p)) return p;
  drops.push('bad-protocol');
  return undefined;
}

export function mapLabels(attrs: Record<string, string>, protocolAttribute: string, drops: DropReason[]): Record<string, string> {
  const reserved = new Set<string>([...RESERVED_ATTRIBUTES, protocolAttribute]);
  const labels: Record<string, string> = {};
  let count = 0;
  for (const key of Object.keys(attrs).sort()) {
    if (reserved.has(key)) continue;
    const value = attrs[key] ?? '';
    // the contract refuses an empty key: the whole record would be lost, not just this label
    if (!key.trim()) {
      drops.push('bad-label-key');
      continue;
    }
    // eslint-disable-next-line no-control-regex
    if (key.length > 317 || value.length > LIMITS.labelValue || /[\u0000-\u001f\u007f]/.test(key)) {
      drops.push('label-too-long');
      continue;
    }
    if (count >= LIMITS.labels) {
      drops.push('too-many-labels');
      continue;
    }
    labels[key] = value;
    count++;
  }
  return labels;
}

export interface NormalizedInstance {
  endpoint?: Endpoint & { ports: Record<string, number>; labels: Record<string, string> };
  protocol?: string;
  drops: DropReason[];
}

/** One instance to one endpoint, or nothing when it has no usable address. Never throws. */
export function normalizeInstance(instance: RawInstance, service: Pick<CloudMapServiceRef, 'healthCheck'>, ctx: NormalizeContext): NormalizedInstance {
  const drops: DropReason[] = [];
  const attrs = instance.attributes ?? {};
  // eslint-disable-next-line no-control-regex
  if (!instance.id || instance.id.length > 256 || /[\u0000-\u001f\u007f]/.test(instance.id)) {
    return { drops: ['bad-instance-id'] };
  }
  const address = pickAddress(attrs, drops);
  if (!address) {
    if (!drops.includes('bad-address')) drops.push('no-address');
    return { drops };
  }
  const port = parsePort(attrs['AWS_INSTANCE_PORT'], drops);
  const protocol = mapProtocol(attrs[ctx.protocolAttribute], drops);
  const locality = mapLocality(attrs, ctx.region, drops);
  const endpoint: NonNullable<NormalizedInstance['endpoint']> = {
    id: instance.id,
    address,
    ports: port === undefined ? {} : { [protocol ? protocol.toLowerCase() : DEFAULT_PORT_NAME]: port },
    labels: mapLabels(attrs, ctx.protocolAttribute, drops),
    health: mapHealth(instance.healthStatus, attrs['AWS_INIT_HEALTH_STATUS'], service.healthCheck, drops),
  };
  if (locality) endpoint.locality = locality;
  return { endpoint, protocol, drops };
}

/** Service ports: one per port name, numbered by the most common endpoint port (ties: the lowest). */
export function servicePorts(endpoints: Array<{ ports: Record<string, number> }>, protocols: Map<string, string | undefined>): Port[] {
  const byName = new Map<string, Map<number, number>>();
  for (const ep of endpoints) {
    for (const [name, number] of Object.entries(ep.ports)) {
      const counts = byName.get(name) ?? new Map<number, number>();
      counts.set(number, (counts.get(number) ?? 0) + 1);
      byName.set(name, counts);
    }
  }
  return [...byName.entries()]
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([name, counts]) => {
      const [number] = [...counts.entries()].sort((a, b) => b[1] - a[1] || a[0] - b[0])[0];
      const protocol = protocols.get(name);
      return protocol ? { name, number, protocol } : { name, number };
    });
}

export interface NormalizedService {
  record: ServiceRecordInput;
  drops: DropCounts;
}

/** The whole service: endpoints sorted by id (a stable content hash), drops counted by reason. */
export function buildServiceRecord(service: CloudMapServiceRef, instances: RawInstance[], revision: number, ctx: NormalizeContext): NormalizedService {
  const drops: DropCounts = {};
  const count = (reason: DropReason) => (drops[reason] = (drops[reason] ?? 0) + 1);
  const seen = new Set<string>();
  const endpoints: NonNullable<NormalizedInstance['endpoint']>[] = [];
  const protocols = new Map<string, string | undefined>();
  for (const instance of [...instances].sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0))) {
    if (seen.has(instance.id)) {
      count('duplicate-instance');
      continue;
    }
    seen.add(instance.id);
    const n = normalizeInstance(instance, service, ctx);
    n.drops.forEach(count);
    if (!n.endpoint) continue;
    if (endpoints.length >= LIMITS.endpoints) {
      count('too-many-endpoints');
      continue;
    }
    for (const name of Object.keys(n.endpoint.ports)) protocols.set(name, n.protocol);
    endpoints.push(n.endpoint);
  }
  const metadata: Record<string, string> = {
    'cloudmap.namespace-id': service.namespaceId,
    'cloudmap.service-id': service.id,
  };
  if (service.namespaceType) metadata['cloudmap.namespace-type'] = service.namespaceType;
  return {
    record: {
      source: { name: ctx.source, kind: 'cloudmap' },
      service: service.name,
      scope: service.namespaceName,
      ports: servicePorts(endpoints, protocols),
      endpoints,
      metadata,
      revision: Number.isSafeInteger(revision) && revision >= 0 ? revision : 0,
      // A service deleted and created again under the same name restarts its InstancesRevision;
      // its new id tells the writer that a lower revision is not an older one.
      lineage: service.id,
      observedAt: ctx.observedAt,
    },
    drops,
  };
}
