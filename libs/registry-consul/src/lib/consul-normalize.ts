import { isIP } from 'node:net';
import { Endpoint, Health, LIMITS, Port, ServiceRecordInput, SourceRef } from '@registry-bridge/contract';
import type { ConsulSourceConfig } from './consul-source.schema';

/** The parts of a /v1/health/service/<name> entry we read; everything is optional because the data is untrusted. */
export interface ConsulHealthEntry {
  Node?: { Node?: string; Address?: string; Datacenter?: string; Meta?: Record<string, string> | null; ModifyIndex?: number };
  Service?: {
    ID?: string;
    Service?: string;
    Kind?: string;
    Tags?: string[] | null;
    Address?: string;
    Port?: number;
    Meta?: Record<string, string> | null;
    Weights?: { Passing?: number; Warning?: number } | null;
    Namespace?: string;
    Partition?: string;
    ModifyIndex?: number;
  };
  Checks?: Array<{ CheckID?: string; Status?: string; ServiceID?: string; ModifyIndex?: number }> | null;
}

export type ConsulStatus = 'passing' | 'warning' | 'critical' | 'maintenance';

export type DropReason =
  | 'proxy_instance'
  | 'tag_filter'
  | 'missing_id'
  | 'invalid_address'
  | 'invalid_port'
  | 'duplicate_endpoint'
  | 'invalid_protocol'
  | 'invalid_label'
  | 'too_many_labels'
  | 'invalid_weight'
  | 'too_many_endpoints';

export interface NormalizeContext {
  source: SourceRef;
  service: string;
  scope?: string;
  /** Configured datacenter; the node's own wins when present. */
  datacenter?: string;
  revision: number;
  lineage?: string;
  observedAt: string;
  options: ConsulSourceConfig['normalize'];
  /** Per-instance tag rule (required/forbidden tags). */
  instanceTagsPass: (tags: readonly string[]) => boolean;
  includeConnect: boolean;
  /**
   * Protocol set centrally for the service (`service-defaults`, else `proxy-defaults` global):
   * used when an instance's Meta.protocol says nothing valid, before `defaultProtocol`.
   */
  centralProtocol?: string;
}

export interface NormalizeResult {
  record: ServiceRecordInput;
  drops: Partial<Record<DropReason, number>>;
  /** Every instance was a Connect proxy/gateway (left out by default): not a service of its own. */
  onlyProxies: boolean;
}

const MAINTENANCE_CHECK = /^_(service|node)_maintenance/;

/** Worst status wins; maintenance is a critical check with a reserved id. */
export function aggregateStatus(checks: ConsulHealthEntry['Checks']): ConsulStatus {
  let worst: ConsulStatus = 'passing';
  for (const c of checks ?? []) {
    if (c.CheckID && MAINTENANCE_CHECK.test(c.CheckID)) return 'maintenance';
    if (c.Status === 'critical') worst = 'critical';
    else if (c.Status === 'warning' && worst === 'passing') worst = 'warning';
    else if (c.Status !== 'passing' && c.Status !== 'warning' && worst === 'passing') worst = 'critical';
  }
  return worst;
}

export function toHealth(status: ConsulStatus, warningIsHealthy: boolean): Health {
  if (status === 'passing') return 'healthy';
  if (status === 'warning') return warningIsHealthy ? 'healthy' : 'unhealthy';
  return 'unhealthy';
}

const HOSTNAME = /^(?=.{1,253}$)([a-zA-Z0-9]([-a-zA-Z0-9]{0,61}[a-zA-Z0-9])?)(\.[a-zA-Z0-9]([-a-zA-Z0-9]{0,61}[a-zA-Z0-9])?)*\.?$/;

/** IPv4, IPv6 (brackets stripped) or a DNS host name; anything else is unusable. */
export function validAddress(raw: string | undefined): string | undefined {
  if (!raw) return undefined;
  const a = raw.trim().replace(/^\[(.*)\]$/, '$1');
  if (isIP(a)) return a;
  // A bare number-and-dots string that is not an IP is a broken IPv4, not a host name.
  if (/^[0-9.]+$/.test(a)) return undefined;
  return HOSTNAME.test(a) ? a.replace(/\.$/, '') : undefined;
}

const PROTOCOLS: Record<string, string> = {
  http: 'HTTP',
  http2: 'HTTP2',
  https: 'HTTPS',
  grpc: 'GRPC',
  'grpc-web': 'GRPC-Web',
  tcp: 'TCP',
  tls: 'TLS',
  mongo: 'Mongo',
  mysql: 'MySQL',
  redis: 'Redis',
  udp: 'UDP',
};

/** Consul meta `protocol` (Connect uses http, http2, grpc, tcp) to Istio's protocol name. */
export function toIstioProtocol(raw: string | undefined): string | undefined {
  if (!raw) return undefined;
  return PROTOCOLS[raw.trim().toLowerCase()];
}

/** `key=value` or `key|value` tags are labels; the first separator splits. */
export function splitTag(tag: string): [string, string] | undefined {
  const m = /^([^=|]+)[=|](.*)$/.exec(tag);
  return m ? [m[1].trim(), m[2].trim()] : undefined;
}

function validPort(p: unknown): p is number {
  return typeof p === 'number' && Number.isInteger(p) && p >= 1 && p <= 65535;
}

function mostCommon<T>(values: T[]): T | undefined {
  const counts = new Map<T, number>();
  let best: T | undefined;
  let bestN = 0;
  for (const v of values) {
    const n = (counts.get(v) ?? 0) + 1;
    counts.set(v, n);
    // Ties go to the first seen; entries arrive sorted by node, so this is stable.
    if (n > bestN) [best, bestN] = [v, n];
  }
  return best;
}

/** Builds one ServiceRecord from the health entries of a service. Pure; drops bad data per field or endpoint. */
export function normalizeService(entries: readonly ConsulHealthEntry[], ctx: NormalizeContext): NormalizeResult {
  const drops: NormalizeResult['drops'] = {};
  const drop = (r: DropReason, n = 1): void => void (drops[r] = (drops[r] ?? 0) + n);
  const o = ctx.options;
  const central = toIstioProtocol(ctx.centralProtocol);
  if (ctx.centralProtocol && !central) drop('invalid_protocol');

  interface Candidate {
    endpoint: Omit<Endpoint, 'ports' | 'labels'> & { labels: Record<string, string> };
    port: number;
    protocol?: string;
  }
  const candidates: Candidate[] = [];
  const seen = new Set<string>();
  let proxies = 0;

  for (const e of entries) {
    const svc = e.Service ?? {};
    if (svc.Kind && !ctx.includeConnect) {
      proxies++;
      drop('proxy_instance');
      continue;
    }
    const tags = (svc.Tags ?? []).filter((t): t is string => typeof t === 'string');
    if (!ctx.instanceTagsPass(tags)) {
      drop('tag_filter');
      continue;
    }
    const nodeName = e.Node?.Node;
    if (!svc.ID || !nodeName) {
      drop('missing_id');
      continue;
    }
    const id = `${nodeName}/${svc.ID}`;
    if (seen.has(id)) {
      drop('duplicate_endpoint');
      continue;
    }
    // Consul: an empty service address means "the node's address".
    const address = validAddress(svc.Address || e.Node?.Address);
    if (!address || id.length > 256) {
      drop(address ? 'missing_id' : 'invalid_address');
      continue;
    }
    if (!validPort(svc.Port)) {
      drop('invalid_port');
      continue;
    }
    seen.add(id);

    const labels: Record<string, string> = {};
    const addLabel = (k: string, v: string): void => {
      if (!k || k.length > 317 || v.length > LIMITS.labelValue) return drop('invalid_label');
      if (Object.keys(labels).length >= LIMITS.labels && !(k in labels)) return drop('too_many_labels');
      labels[k] = v;
    };
    if (o.metaLabelPrefix !== null) {
      for (const [k, v] of Object.entries(svc.Meta ?? {})) if (typeof v === 'string') addLabel(`${o.metaLabelPrefix}${k}`, v);
    }
    for (const t of tags) {
      const kv = splitTag(t);
      if (kv) addLabel(kv[0], kv[1]);
      else if (o.plainTagLabelPrefix !== null && (!o.plainTagAllowList || o.plainTagAllowList.includes(t))) {
        addLabel(`${o.plainTagLabelPrefix}${t}`, 'true');
      }
    }

    const rawProto = svc.Meta?.['protocol'];
    let protocol = toIstioProtocol(rawProto);
    if (rawProto && !protocol) drop('invalid_protocol');
    protocol ??= central ?? o.defaultProtocol;

    const status = aggregateStatus(e.Checks);
    const dc = e.Node?.Datacenter || ctx.datacenter;
    const zone = o.zoneMetaKey ? svc.Meta?.[o.zoneMetaKey] || e.Node?.Meta?.[o.zoneMetaKey] : undefined;
    const locality = dc ? (zone ? `${dc}/${zone}` : dc) : undefined;
    const w = status === 'warning' ? svc.Weights?.Warning : svc.Weights?.Passing;
    let weight: number | undefined;
    if (w !== undefined && w !== null) {
      if (Number.isInteger(w) && w >= 1 && w <= 4294967295) weight = w;
      else if (w !== 0) drop('invalid_weight');
    }

    candidates.push({
      endpoint: {
        id,
        address,
        labels,
        health: toHealth(status, o.warningIsHealthy),
        ...(locality && locality.length <= 256 ? { locality } : {}),
        ...(weight ? { weight } : {}),
        ...(o.network ? { network: o.network } : {}),
      },
      port: svc.Port,
      protocol,
    });
  }

  if (candidates.length > LIMITS.endpoints) drop('too_many_endpoints', candidates.length - LIMITS.endpoints);
  candidates.sort((a, b) => (a.endpoint.id < b.endpoint.id ? -1 : a.endpoint.id > b.endpoint.id ? 1 : 0));
  const kept = candidates.slice(0, LIMITS.endpoints);

  // One logical port per service; instances on another number say so in their endpoint ports.
  const protocol = mostCommon(kept.map((c) => c.protocol).filter((p): p is string => !!p));
  const portName = (protocol ?? 'tcp').toLowerCase();
  const servicePort = mostCommon(kept.map((c) => c.port));
  const ports: Port[] = servicePort ? [{ name: portName, number: servicePort, ...(protocol ? { protocol } : {}) }] : [];
  const endpoints: Endpoint[] = kept.map((c) => ({ ...c.endpoint, ports: c.port !== servicePort ? { [portName]: c.port } : {} }));

  const metadata: Record<string, string> = {};
  const dc = ctx.datacenter ?? entries.find((e) => e.Node?.Datacenter)?.Node?.Datacenter;
  if (dc) metadata['consul.datacenter'] = dc;

  return {
    record: {
      source: ctx.source,
      service: ctx.service,
      ...(ctx.scope ? { scope: ctx.scope } : {}),
      ports,
      endpoints,
      metadata,
      revision: ctx.revision,
      ...(ctx.lineage ? { lineage: ctx.lineage } : {}),
      observedAt: ctx.observedAt,
    },
    drops,
    onlyProxies: entries.length > 0 && proxies === entries.length,
  };
}

/** Highest ModifyIndex in the entries: the service's own change counter. */
export function maxModifyIndex(entries: readonly ConsulHealthEntry[]): number {
  let max = 0;
  for (const e of entries) {
    max = Math.max(max, e.Service?.ModifyIndex ?? 0, e.Node?.ModifyIndex ?? 0);
    for (const c of e.Checks ?? []) max = Math.max(max, c.ModifyIndex ?? 0);
  }
  return max;
}
