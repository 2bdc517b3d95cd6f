import { seconds as duration, secret, toMs } from '@registry-bridge/app-config';
import { sourceNameSchema } from '@registry-bridge/contract';
import { loadSourceTls, sourceTlsSchema } from '@registry-bridge/source-kit';
import { z } from 'zod';
import type { EurekaClientOptions } from './eureka-rest.client';
import type { EurekaSyncOptions } from './eureka-source.syncer';

const serverUrl = z
  .string()
  .url()
  .regex(/^https?:\/\//, 'must be an http:// or https:// URL')
  // A password inside the URL would end up in logs and process listings.
  .refine((u) => !/^https?:\/\/[^@/]*:[^@/]+@/.test(u), 'must not carry a password; use password ({ file } or { env })');

const glob = z.string().min(1).max(256);
const seconds = (min: number, max: number, def: number) => duration(min, max).default(def);

/** One Eureka cluster = one source. */
export const eurekaSourceSchema = z
  .strictObject({
    /** Source name (DNS-1123 label): goes into every record and the writer's labels. */
    name: sourceNameSchema,
    /** Servers of this cluster, each with its base path (`/eureka`, `/eureka/v2`, ...); tried in order, failing over. */
    serviceUrls: z.array(serverUrl).min(1).max(32),
    username: z.string().min(1).optional(),
    /** Basic auth password: `{ file }` or `{ env }`, never literal. */
    password: secret().optional(),
    tls: sourceTlsSchema.optional(),
    /** Per request. */
    timeoutSeconds: seconds(0.1, 120, 10),
    /** How often the registry is read (a delta, or a full fetch when one is due). */
    pollIntervalSeconds: seconds(1, 3600, 10),
    /** A full `/apps` fetch at least this often. */
    fullFetchIntervalSeconds: seconds(10, 86400, 300),
    /** Deltas between full fetches; off = a full fetch every poll. */
    useDelta: z.boolean().default(true),
    /** Below the server's delta retention (3 min by default): a longer gap between reads forces a full fetch. */
    deltaRetentionSeconds: seconds(5, 3600, 150),
    apps: z
      .strictObject({
        /** Globs (`*`, `?`) on app names, case-insensitive; empty = all. */
        allow: z.array(glob).default([]),
        /** Globs; deny wins over allow. */
        deny: z.array(glob).default([]),
      })
      .prefault({}),
    /** Eureka statuses reported as healthy. */
    healthyStatuses: z.array(z.enum(['UP', 'DOWN', 'STARTING', 'OUT_OF_SERVICE', 'UNKNOWN'])).min(1).default(['UP']),
    /** Endpoint address from hostName even when ipAddr is set. */
    preferHostName: z.boolean().default(false),
    metadataKeys: z
      .strictObject({
        /** Instance metadata key overriding the protocol of `port` (default HTTP). */
        protocol: z.string().min(1).default('protocol'),
        /** Instance metadata key overriding the protocol of `securePort` (default HTTPS). */
        secureProtocol: z.string().min(1).default('secure-protocol'),
        /** Instance metadata key with the port clients use for the service (endpoints keep their own). */
        servicePort: z.string().min(1).default('service-port'),
      })
      .prefault({}),
    /**
     * A registry that had services and reads empty (a restarted server before its clients
     * re-register) is believed only after this long; 0 believes it at once.
     */
    emptyRegistryHoldSeconds: seconds(0, 3600, 90),
    /** Self-preservation is read from the server's dashboard page. */
    dashboard: z
      .strictObject({
        enabled: z.boolean().default(true),
        /** Path on the server's origin (Spring Cloud: `eureka.dashboard.path`, `/` by default). */
        path: z.string().regex(/^\//, 'must start with /').default('/'),
        intervalSeconds: seconds(5, 3600, 60),
      })
      .prefault({}),
  })
  .superRefine((s, ctx) => {
    if (s.password && !s.username) ctx.addIssue({ code: 'custom', path: ['username'], message: 'required when password is set' });
    if (s.tls && !s.serviceUrls.some((u) => u.startsWith('https://'))) {
      ctx.addIssue({ code: 'custom', path: ['tls'], message: 'set, but no serviceUrl is https://' });
    }
  });

export type EurekaSourceConfig = z.infer<typeof eurekaSourceSchema>;
export type EurekaSourceConfigInput = z.input<typeof eurekaSourceSchema>;

export const eurekaSourcesSchema = z
  .array(eurekaSourceSchema)
  .min(1)
  .superRefine((sources, ctx) => {
    const seen = new Set<string>();
    sources.forEach((s, i) => {
      if (seen.has(s.name)) ctx.addIssue({ code: 'custom', path: [i, 'name'], message: `duplicate source name "${s.name}"` });
      seen.add(s.name);
    });
  });

/** Client options of a validated source (reads the TLS files; a missing one throws SourceTlsError). */
export function toClientOptions(s: EurekaSourceConfig): EurekaClientOptions {
  return {
    serviceUrls: s.serviceUrls,
    username: s.username,
    password: s.password,
    timeoutMs: toMs(s.timeoutSeconds),
    tls: loadSourceTls(s.name, s.tls),
  };
}

export function toSyncOptions(s: EurekaSourceConfig): EurekaSyncOptions {
  return {
    source: s.name,
    fullFetchIntervalMs: toMs(s.fullFetchIntervalSeconds),
    useDelta: s.useDelta,
    deltaRetentionMs: toMs(s.deltaRetentionSeconds),
    apps: { include: s.apps.allow, exclude: s.apps.deny },
    normalize: {
      healthyStatuses: s.healthyStatuses,
      preferHostName: s.preferHostName,
      protocolKey: s.metadataKeys.protocol,
      secureProtocolKey: s.metadataKeys.secureProtocol,
      servicePortKey: s.metadataKeys.servicePort,
    },
    dashboardPath: s.dashboard.enabled ? s.dashboard.path : undefined,
    dashboardIntervalMs: toMs(s.dashboard.intervalSeconds),
    emptyHoldMs: toMs(s.emptyRegistryHoldSeconds),
  };
}
