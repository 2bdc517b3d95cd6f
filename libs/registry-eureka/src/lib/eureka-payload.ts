/**
 * Shapes of Eureka's REST payloads (JSON, `Accept: application/json`) as the server sends them.
 * Eureka's codecs vary: a one-element list may arrive as an object, numbers as strings, ports as
 * `{"$": 8080, "@enabled": "true"}`. Everything here is read defensively.
 */
export interface EurekaPortJson {
  $?: number | string;
  '@enabled'?: boolean | string;
}

export interface EurekaInstanceJson {
  instanceId?: string;
  hostName?: string;
  app?: string;
  ipAddr?: string;
  status?: string;
  overriddenStatus?: string;
  port?: EurekaPortJson | number | string;
  securePort?: EurekaPortJson | number | string;
  vipAddress?: string;
  secureVipAddress?: string;
  dataCenterInfo?: { name?: string; metadata?: Record<string, unknown> };
  metadata?: Record<string, unknown>;
  lastUpdatedTimestamp?: number | string;
  lastDirtyTimestamp?: number | string;
  actionType?: string;
  [field: string]: unknown;
}

export interface EurekaApplicationJson {
  name?: string;
  instance?: EurekaInstanceJson | EurekaInstanceJson[];
}

export interface EurekaApplicationsJson {
  applications?: {
    versions__delta?: string | number;
    apps__hashcode?: string;
    application?: EurekaApplicationJson | EurekaApplicationJson[];
  };
}

export function asArray<T>(value: T | T[] | undefined | null): T[] {
  if (value === undefined || value === null) return [];
  return Array.isArray(value) ? value : [value];
}

/** A decoded `/apps` or `/apps/delta` body: instances grouped by upper-case app name. */
export interface ApplicationsPayload {
  hashCode: string;
  versionsDelta?: string;
  apps: Map<string, EurekaInstanceJson[]>;
}

export class EurekaPayloadError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'EurekaPayloadError';
  }
}

/**
 * Decodes the body of `/apps` or `/apps/delta`. Throws only when the envelope itself is unusable
 * (then the whole fetch failed and nothing must be concluded from it); odd instances are kept for
 * the normalizer, which drops them one by one with a reason.
 */
export function decodeApplications(body: unknown): ApplicationsPayload {
  if (body === null || typeof body !== 'object' || !('applications' in body)) {
    throw new EurekaPayloadError('response has no "applications" object');
  }
  const root = (body as EurekaApplicationsJson).applications;
  if (root === null || typeof root !== 'object') throw new EurekaPayloadError('"applications" is not an object');
  const apps = new Map<string, EurekaInstanceJson[]>();
  for (const app of asArray(root.application)) {
    if (!app || typeof app !== 'object') continue;
    const instances = asArray(app.instance).filter((i): i is EurekaInstanceJson => !!i && typeof i === 'object');
    // Eureka keys applications by upper-case name; instance.app is the authority when name is missing.
    const name = (typeof app.name === 'string' && app.name) || (typeof instances[0]?.app === 'string' && instances[0].app) || '';
    if (!name) continue;
    const key = name.toUpperCase();
    apps.set(key, [...(apps.get(key) ?? []), ...instances]);
  }
  return {
    hashCode: typeof root.apps__hashcode === 'string' ? root.apps__hashcode : '',
    versionsDelta: root.versions__delta === undefined ? undefined : String(root.versions__delta),
    apps,
  };
}

/** Eureka's instance identity: instanceId, else the host name (what Eureka itself falls back to). */
export function instanceKey(instance: EurekaInstanceJson): string | undefined {
  if (typeof instance.instanceId === 'string' && instance.instanceId) return instance.instanceId;
  if (typeof instance.hostName === 'string' && instance.hostName) return instance.hostName;
  return undefined;
}

export function toMillis(value: unknown): number | undefined {
  const n = typeof value === 'string' ? Number(value) : value;
  return typeof n === 'number' && Number.isFinite(n) && n >= 0 ? Math.floor(n) : undefined;
}
