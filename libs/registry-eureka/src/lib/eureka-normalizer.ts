import { isIP } from 'node:net';
import { LIMITS, type Endpoint, type Health, type Port, type SourceRef } from '@registry-bridge/contract';
import { EurekaInstanceJson, EurekaPortJson, instanceKey, toMillis } from './eureka-payload';

/** Why a piece of registry data was dropped; counted per reason, never fatal for the source. */
export type DropReason =
  | 'app_name_invalid'
  | 'instance_no_id'
  | 'instance_duplicate_id'
  | 'instance_no_address'
  | 'instance_no_port'
  | 'port_invalid'
  | 'protocol_invalid'
  | 'service_port_invalid'
  | 'label_invalid'
  | 'labels_over_limit'
  | 'locality_invalid'
  | 'endpoints_over_limit';

export type DropCounts = Partial<Record<DropReason, number>>;

export interface NormalizeOptions {
  source: SourceRef;
  /** Eureka statuses that count as healthy; default UP only. */
  healthyStatuses: readonly string[];
  /** Instance metadata key whose value overrides the protocol of the non-secure port. */
  protocolKey: string;
  /** Instance metadata key whose value overrides the protocol of the secure port. */
  secureProtocolKey: string;
  /** Instance metadata key with the port clients should use for the service (endpoints keep their own). */
  servicePortKey: string;
  /** Use hostName even when ipAddr is set. */
  preferHostName: boolean;
}

export const DEFAULT_NORMALIZE_OPTIONS: Omit<NormalizeOptions, 'source'> = {
  healthyStatuses: ['UP'],
  protocolKey: 'protocol',
  secureProtocolKey: 'secure-protocol',
  servicePortKey: 'service-port',
  preferHostName: false,
};

/** A record without observedAt/revision: those are stamped when it is sent. */
export interface NormalizedApp {
  service: string;
  ports: Port[];
  endpoints: Endpoint[];
  metadata: Record<string, string>;
  /** Newest lastDirtyTimestamp/lastUpdatedTimestamp of the app's instances (0 when none). */
  registryRevision: number;
}

export interface NormalizeResult {
  /** Undefined when the app cannot become a record at all (its name is unusable). */
  app?: NormalizedApp;
  drops: DropCounts;
}

const ISTIO_PROTOCOLS = new Set(['HTTP', 'HTTPS', 'GRPC', 'GRPC-WEB', 'HTTP2', 'MONGO', 'MYSQL', 'REDIS', 'TCP', 'TLS', 'UDP']);
const HOSTNAME = /^(?=.{1,253}$)([a-zA-Z0-9]([-a-zA-Z0-9]{0,61}[a-zA-Z0-9])?)(\.[a-zA-Z0-9]([-a-zA-Z0-9]{0,61}[a-zA-Z0-9])?)*\.?$/;
const LABEL_NAME = /^([A-Za-z0-9]([-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?)$/;
const LABEL_PREFIX = /^(?=.{1,253}$)[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;
const LABEL_VALUE = /^(([A-Za-z0-9][-A-Za-z0-9_.]{0,61})?[A-Za-z0-9])?$/;
// eslint-disable-next-line no-control-regex
const CONTROL = /[\u0000-\u001f\u007f]/;
const AWS_AZ = /^([a-z]{2}(?:-[a-z]+)+-\d+)([a-z]+)$/;

function count(drops: DropCounts, reason: DropReason, n = 1): void {
  drops[reason] = (drops[reason] ?? 0) + n;
}

/** Kubernetes label key syntax: optional DNS-subdomain prefix and a name of at most 63 characters. */
export function isValidLabelKey(key: string): boolean {
  const slash = key.lastIndexOf('/');
  if (slash === -1) return LABEL_NAME.test(key);
  return LABEL_PREFIX.test(key.slice(0, slash)) && LABEL_NAME.test(key.slice(slash + 1));
}

export function isValidLabelValue(value: string): boolean {
  return value.length <= 63 && LABEL_VALUE.test(value);
}

/** `{"$": 8080, "@enabled": "true"}` -> 8080 when enabled; undefined when disabled or absent. */
export function readPort(raw: EurekaPortJson | number | string | undefined): { port?: number; invalid: boolean } {
  if (raw === undefined || raw === null) return { invalid: false };
  let value: unknown = raw;
  if (typeof raw === 'object') {
    const enabled = raw['@enabled'];
    if (enabled === false || enabled === 'false') return { invalid: false };
    value = raw.$;
  }
  const n = typeof value === 'string' && value.trim() !== '' ? Number(value) : value;
  if (typeof n !== 'number' || !Number.isInteger(n) || n < 1 || n > 65535) return { invalid: true };
  return { port: n, invalid: false };
}

function readProtocol(value: unknown, fallback: string, drops: DropCounts): string {
  if (value === undefined || value === null || value === '') return fallback;
  const p = String(value).trim().toUpperCase();
  if (ISTIO_PROTOCOLS.has(p)) return p;
  count(drops, 'protocol_invalid');
  return fallback;
}

export function healthOf(status: unknown, healthyStatuses: readonly string[]): Health {
  if (typeof status !== 'string' || !status) return 'unknown';
  if (healthyStatuses.includes(status)) return 'healthy';
  return status === 'UNKNOWN' ? 'unknown' : 'unhealthy';
}

export function addressOf(instance: EurekaInstanceJson, preferHostName: boolean): string | undefined {
  const ip = typeof instance.ipAddr === 'string' ? instance.ipAddr.trim() : '';
  const host = typeof instance.hostName === 'string' ? instance.hostName.trim() : '';
  const ipOk = isIP(ip) !== 0;
  const hostOk = host !== '' && (isIP(host) !== 0 || HOSTNAME.test(host));
  if (preferHostName && hostOk) return host;
  if (ipOk) return ip;
  return hostOk ? host : undefined;
}

/** Amazon data center info -> Istio locality `region/zone` (e.g. `us-east-1/us-east-1a`). */
export function localityOf(instance: EurekaInstanceJson, drops: DropCounts): string | undefined {
  const dc = instance.dataCenterInfo;
  if (!dc || dc.name !== 'Amazon') return undefined;
  const az = dc.metadata?.['availability-zone'];
  if (typeof az !== 'string' || !az) return undefined;
  const m = AWS_AZ.exec(az);
  if (!m) {
    count(drops, 'locality_invalid');
    return undefined;
  }
  return `${m[1]}/${az}`;
}

function labelsOf(metadata: unknown, drops: DropCounts): Record<string, string> {
  const labels: Record<string, string> = {};
  if (!metadata || typeof metadata !== 'object') return labels;
  let n = 0;
  for (const [key, raw] of Object.entries(metadata as Record<string, unknown>).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))) {
    // Spring's placeholder entry for "no metadata" in older clients.
    if (key === '@class') continue;
    const value = typeof raw === 'string' ? raw : typeof raw === 'number' || typeof raw === 'boolean' ? String(raw) : undefined;
    if (value === undefined || !isValidLabelKey(key) || !isValidLabelValue(value)) {
      count(drops, 'label_invalid');
      continue;
    }
    if (n >= LIMITS.labels) {
      count(drops, 'labels_over_limit');
      continue;
    }
    labels[key] = value;
    n++;
  }
  return labels;
}

/** Most frequent value, the lowest on a tie (deterministic whatever the instance order). */
function mostCommon(values: number[]): number | undefined {
  const counts = new Map<number, number>();
  for (const v of values) counts.set(v, (counts.get(v) ?? 0) + 1);
  let best: number | undefined;
  let bestCount = 0;
  for (const [v, c] of counts) {
    if (best === undefined || c > bestCount || (c === bestCount && v < best)) {
      best = v;
      bestCount = c;
    }
  }
  return best;
}

function metaString(instance: EurekaInstanceJson, key: string): string | undefined {
  const v = instance.metadata?.[key];
  return typeof v === 'string' || typeof v === 'number' ? String(v) : undefined;
}

/**
 * One Eureka application (all its instances) -> the body of a ServiceRecord. Pure: bad data is
 * dropped per field or per instance and counted in `drops`; only an unusable app name drops the app.
 */
export function normalizeApp(appName: string, instances: readonly EurekaInstanceJson[], options: NormalizeOptions): NormalizeResult {
  const drops: DropCounts = {};
  const service = appName.toLowerCase();
  if (!service || service.length > LIMITS.serviceName || CONTROL.test(service)) {
    count(drops, 'app_name_invalid');
    return { drops };
  }

  interface Draft {
    endpoint: Endpoint;
    plain?: { port: number; protocol: string; servicePort?: number };
    secure?: { port: number; protocol: string };
  }
  const drafts: Draft[] = [];
  const seen = new Set<string>();
  let registryRevision = 0;

  for (const instance of instances) {
    registryRevision = Math.max(registryRevision, toMillis(instance.lastDirtyTimestamp) ?? 0, toMillis(instance.lastUpdatedTimestamp) ?? 0);
    const id = instanceKey(instance);
    if (!id || id.length > 256 || CONTROL.test(id)) {
      count(drops, 'instance_no_id');
      continue;
    }
    if (seen.has(id)) {
      count(drops, 'instance_duplicate_id');
      continue;
    }
    const address = addressOf(instance, options.preferHostName);
    if (!address) {
      count(drops, 'instance_no_address');
      continue;
    }
    const plainPort = readPort(instance.port);
    const securePort = readPort(instance.securePort);
    if (plainPort.invalid) count(drops, 'port_invalid');
    if (securePort.invalid) count(drops, 'port_invalid');
    if (plainPort.port === undefined && securePort.port === undefined) {
      count(drops, 'instance_no_port');
      continue;
    }
    seen.add(id);
    const draft: Draft = {
      endpoint: {
        id,
        address,
        ports: {},
        labels: labelsOf(instance.metadata, drops),
        health: healthOf(instance.status, options.healthyStatuses),
      },
    };
    const locality = localityOf(instance, drops);
    if (locality) draft.endpoint.locality = locality;
    if (plainPort.port !== undefined) {
      const override = metaString(instance, options.servicePortKey);
      let servicePort: number | undefined;
      if (override !== undefined) {
        const parsed = readPort(override);
        if (parsed.port === undefined) count(drops, 'service_port_invalid');
        servicePort = parsed.port;
      }
      draft.plain = { port: plainPort.port, protocol: readProtocol(metaString(instance, options.protocolKey), 'HTTP', drops), servicePort };
    }
    if (securePort.port !== undefined) {
      draft.secure = { port: securePort.port, protocol: readProtocol(metaString(instance, options.secureProtocolKey), 'HTTPS', drops) };
    }
    drafts.push(draft);
  }

  drafts.sort((a, b) => (a.endpoint.id < b.endpoint.id ? -1 : a.endpoint.id > b.endpoint.id ? 1 : 0));
  if (drafts.length > LIMITS.endpoints) {
    count(drops, 'endpoints_over_limit', drafts.length - LIMITS.endpoints);
    drafts.length = LIMITS.endpoints;
  }

  // One protocol per port name: the majority of the instances decides (a service has one protocol per port).
  const majority = (values: string[]): string | undefined => {
    const c = new Map<string, number>();
    for (const v of values) c.set(v, (c.get(v) ?? 0) + 1);
    return [...c.entries()].sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : 1))[0]?.[0];
  };
  const plainProtocol = majority(drafts.flatMap((d) => (d.plain ? [d.plain.protocol] : [])));
  const secureProtocol = majority(drafts.flatMap((d) => (d.secure ? [d.secure.protocol] : [])));
  const plainName = plainProtocol?.toLowerCase();
  let secureName = secureProtocol?.toLowerCase();
  if (secureName && secureName === plainName) secureName = `${secureName}-secure`;

  const ports: Port[] = [];
  if (plainName && plainProtocol) {
    const overrides = drafts.flatMap((d) => (d.plain?.servicePort !== undefined ? [d.plain.servicePort] : []));
    const number = mostCommon(overrides.length > 0 ? overrides : drafts.flatMap((d) => (d.plain ? [d.plain.port] : [])));
    if (number !== undefined) ports.push({ name: plainName, number, protocol: plainProtocol });
  }
  if (secureName && secureProtocol) {
    const number = mostCommon(drafts.flatMap((d) => (d.secure ? [d.secure.port] : [])));
    if (number !== undefined) ports.push({ name: secureName, number, protocol: secureProtocol });
  }
  for (const d of drafts) {
    if (d.plain && plainName) d.endpoint.ports[plainName] = d.plain.port;
    if (d.secure && secureName) d.endpoint.ports[secureName] = d.secure.port;
  }

  const metadata: Record<string, string> = { 'eureka.app': appName.slice(0, LIMITS.metadataValue) };
  const vip = [...new Set(instances.map((i) => i.vipAddress).filter((v): v is string => typeof v === 'string' && v !== ''))].sort();
  if (vip.length > 0) metadata['eureka.vipAddress'] = vip.join(',').slice(0, LIMITS.metadataValue);

  return { app: { service, ports, endpoints: drafts.map((d) => d.endpoint), metadata, registryRevision }, drops };
}
