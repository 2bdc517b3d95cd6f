/**
 * Consul's central config entries that say a service's protocol, as Connect users set it
 * (https://developer.hashicorp.com/consul/docs/connect/config-entries/service-defaults and
 * .../proxy-defaults): `service-defaults` `Protocol` per service, the `proxy-defaults` entry named
 * `global` with `Config.protocol` for all. Pure: whatever the answer holds, bad entries are skipped.
 */

export interface CentralProtocols {
  /** service name -> protocol from its `service-defaults` entry. */
  byService: ReadonlyMap<string, string>;
  /** `proxy-defaults` `global` `Config.protocol`. */
  global?: string;
}

export const NO_CENTRAL_PROTOCOLS: CentralProtocols = { byService: new Map() };

const text = (v: unknown): string | undefined => (typeof v === 'string' && v.trim() !== '' ? v.trim() : undefined);
const entries = (body: unknown): Array<Record<string, unknown>> =>
  Array.isArray(body) ? body.filter((e): e is Record<string, unknown> => !!e && typeof e === 'object' && !Array.isArray(e)) : [];

/** `GET /v1/config/service-defaults` -> protocol per service (entries without one are left out). */
export function serviceDefaultsProtocols(body: unknown): Map<string, string> {
  const out = new Map<string, string>();
  for (const e of entries(body)) {
    const name = text(e['Name']);
    const protocol = text(e['Protocol']);
    if (name && protocol) out.set(name, protocol);
  }
  return out;
}

/** `GET /v1/config/proxy-defaults` -> the `global` entry's `Config.protocol`. */
export function proxyDefaultsProtocol(body: unknown): string | undefined {
  const global = entries(body).find((e) => e['Name'] === 'global');
  const config = global?.['Config'];
  return config && typeof config === 'object' && !Array.isArray(config) ? text((config as Record<string, unknown>)['protocol']) : undefined;
}

/** The central protocol of one service: its service-defaults, else the global proxy-defaults. */
export function centralProtocolOf(c: CentralProtocols, service: string): string | undefined {
  return c.byService.get(service) ?? c.global;
}
