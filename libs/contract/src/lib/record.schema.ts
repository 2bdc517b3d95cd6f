import { z } from 'zod';

/** Version of the message set; a writer refuses (dead-letters) any other. */
export const CONTRACT_VERSION = 1 as const;

export const REGISTRY_KINDS = ['consul', 'eureka', 'cloudmap'] as const;
export const registryKindSchema = z.enum(REGISTRY_KINDS);
export type RegistryKind = z.infer<typeof registryKindSchema>;

export const HEALTH_STATES = ['healthy', 'unhealthy', 'unknown'] as const;
export const healthSchema = z.enum(HEALTH_STATES);
export type Health = z.infer<typeof healthSchema>;

/** Limits that keep one message bounded; registries can hold worse, collectors trim before sending. */
export const LIMITS = {
  sourceName: 63,
  serviceName: 512,
  scope: 256,
  ports: 1024,
  endpoints: 20000,
  labelValue: 1024,
  labels: 256,
  metadataKeys: 512,
  metadataValue: 4096,
  snapshotServices: 100000,
  error: 2048,
} as const;

// Source names become label values and object-name parts, hence DNS-1123 label syntax.
export const sourceNameSchema = z
  .string()
  .min(1)
  .max(LIMITS.sourceName)
  .regex(/^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/, 'source name must be a DNS-1123 label (lower case, digits, "-")');

export const sourceRefSchema = z.object({
  name: sourceNameSchema,
  kind: registryKindSchema,
});
export type SourceRef = z.infer<typeof sourceRefSchema>;

const printable = (max: number) =>
  z
    .string()
    .min(1)
    .max(max)
    // eslint-disable-next-line no-control-regex
    .refine((s) => !/[\u0000-\u001f\u007f]/.test(s), 'must not contain control characters');

export const serviceNameSchema = printable(LIMITS.serviceName);
export const scopeSchema = printable(LIMITS.scope);

export const portNumberSchema = z.number().int().min(1).max(65535);

export const portSchema = z.object({
  /** Port name as the registry knows it (e.g. `http`, `https`, `grpc`); the writer sanitizes it. */
  name: z.string().min(1).max(63),
  number: portNumberSchema,
  /** Upper-case Istio protocol when the registry says (HTTP, HTTPS, GRPC, HTTP2, TCP, TLS, ...). */
  protocol: z.string().min(1).max(32).optional(),
});
export type Port = z.infer<typeof portSchema>;

const stringMap = (maxKeys: number, maxValue: number) =>
  z.record(z.string().min(1).max(317), z.string().max(maxValue)).refine((m) => Object.keys(m).length <= maxKeys, {
    message: `at most ${maxKeys} keys`,
  });

export const endpointSchema = z.object({
  /** Stable instance id within the service (Consul service id + node, Eureka instanceId, Cloud Map instance id). */
  id: printable(256),
  /** IPv4, IPv6 or a DNS host name; the writer validates which. */
  address: z.string().min(1).max(253),
  /**
   * Port name -> number of every service port this endpoint serves. Empty: it serves every port
   * of the service at the service's number. Not empty: only these, so list a port here even when
   * its number equals the service's whenever the endpoint does not serve all ports (the writer
   * keeps an endpoint off ports it does not list).
   */
  ports: z.record(z.string().min(1).max(63), portNumberSchema).default({}),
  labels: stringMap(LIMITS.labels, LIMITS.labelValue).default({}),
  health: healthSchema,
  /** `region/zone/subzone` as Istio expects it. */
  locality: z.string().max(256).optional(),
  weight: z.number().int().min(1).max(4294967295).optional(),
  network: z.string().max(253).optional(),
  serviceAccount: z.string().max(253).optional(),
});
export type Endpoint = z.infer<typeof endpointSchema>;

/**
 * Ordering of records for one service key. `revision` is the registry's own change counter;
 * `lineage` names the counter's history (it changes when a registry is rebuilt and its counter
 * restarts), so a restarted counter is not mistaken for an old one.
 */
export const revisionSchema = z.number().int().min(0).max(Number.MAX_SAFE_INTEGER);

const observedAtSchema = z.string().datetime({ offset: true });

export const serviceRecordSchema = z.object({
  source: sourceRefSchema,
  service: serviceNameSchema,
  scope: scopeSchema.optional(),
  ports: z.array(portSchema).max(LIMITS.ports),
  endpoints: z.array(endpointSchema).max(LIMITS.endpoints),
  metadata: stringMap(LIMITS.metadataKeys, LIMITS.metadataValue).default({}),
  revision: revisionSchema,
  lineage: z.string().max(128).optional(),
  observedAt: observedAtSchema,
});
export type ServiceRecord = z.infer<typeof serviceRecordSchema>;
export type ServiceRecordInput = z.input<typeof serviceRecordSchema>;

export const upsertMessageSchema = z.object({
  v: z.literal(CONTRACT_VERSION),
  type: z.literal('upsert'),
  record: serviceRecordSchema,
});

export const removeMessageSchema = z.object({
  v: z.literal(CONTRACT_VERSION),
  type: z.literal('remove'),
  source: sourceRefSchema,
  service: serviceNameSchema,
  scope: scopeSchema.optional(),
  revision: revisionSchema,
  lineage: z.string().max(128).optional(),
  observedAt: observedAtSchema,
});

export const serviceRefSchema = z.object({ service: serviceNameSchema, scope: scopeSchema.optional() });
export type ServiceRef = z.infer<typeof serviceRefSchema>;

export const snapshotMessageSchema = z.object({
  v: z.literal(CONTRACT_VERSION),
  type: z.literal('snapshot'),
  source: sourceRefSchema,
  /** Monotonic per source (milliseconds since the epoch is fine); an older snapshot never replaces a newer one. */
  epoch: z.number().int().min(0),
  /** Only a complete snapshot may ever cause deletions. */
  complete: z.boolean(),
  services: z.array(serviceRefSchema).max(LIMITS.snapshotServices),
  observedAt: observedAtSchema,
});

export const sourceStatusMessageSchema = z.object({
  v: z.literal(CONTRACT_VERSION),
  type: z.literal('sourceStatus'),
  source: sourceRefSchema,
  reachable: z.boolean(),
  lastSuccessAt: observedAtSchema.optional(),
  error: z.string().max(LIMITS.error).optional(),
  /** Registry-specific conditions worth surfacing (e.g. Eureka self-preservation). */
  conditions: z.record(z.string().max(63), z.union([z.boolean(), z.string().max(256), z.number()])).default({}),
  observedAt: observedAtSchema,
});

export const messageSchema = z.discriminatedUnion('type', [
  upsertMessageSchema,
  removeMessageSchema,
  snapshotMessageSchema,
  sourceStatusMessageSchema,
]);

export type UpsertMessage = z.infer<typeof upsertMessageSchema>;
export type RemoveMessage = z.infer<typeof removeMessageSchema>;
export type SnapshotMessage = z.infer<typeof snapshotMessageSchema>;
export type SourceStatusMessage = z.infer<typeof sourceStatusMessageSchema>;
export type Message = z.infer<typeof messageSchema>;
export type MessageInput = z.input<typeof messageSchema>;
