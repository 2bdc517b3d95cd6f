import { httpConfigSchema, logConfigSchema, redisConfigSchema, secret } from '@registry-bridge/app-config';
import { HEALTH_STATES, REGISTRY_KINDS, sourceNameSchema } from '@registry-bridge/contract';
import {
  DEFAULT_CLUSTER_DOMAIN,
  HOST_TEMPLATE_VARIABLES,
  isDns1123Label,
  isDns1123Subdomain,
  isValidLabelKey,
  isValidLabelValue,
  ISTIO_PROTOCOLS,
  ISTIO_ROOT_NAMESPACE,
} from '@registry-bridge/translation';
import { z } from 'zod';

const dns1123Label = z.string().regex(/^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/, 'must be a DNS-1123 label').max(63);

/** Istio's own exportTo rules: ".", "*", "~" (ServiceEntry only) or namespace names; "*" and "~" alone; no duplicates. */
const exportToSchema = z
  .array(z.string().refine((v) => v === '.' || v === '*' || v === '~' || isDns1123Label(v), 'must be ".", "*", "~" or a namespace name (DNS-1123 label), as Istio requires'))
  .min(1)
  .superRefine((list, ctx) => {
    for (const only of ['*', '~']) {
      if (list.includes(only) && list.length > 1) ctx.addIssue({ code: 'custom', message: `"${only}" cannot be combined with other values (Istio rejects it)` });
    }
    list.forEach((v, i) => {
      if (list.indexOf(v) !== i) ctx.addIssue({ code: 'custom', path: [i], message: 'duplicate entry (Istio rejects it)' });
    });
  });

/** Labels put on every object: invalid ones would fail every apply, so they fail the config. */
const labelsSchema = z.record(z.string(), z.string().refine(isValidLabelValue, 'not a valid Kubernetes label value')).superRefine((labels, ctx) => {
  for (const key of Object.keys(labels)) if (!isValidLabelKey(key)) ctx.addIssue({ code: 'custom', path: [key], message: 'not a valid Kubernetes label key' });
});

const hostTemplateSchema = z
  .string()
  .min(1)
  .max(253)
  .refine((t) => [...t.matchAll(/\{(\w+)\}/g)].every(([, name]) => Object.hasOwn(HOST_TEMPLATE_VARIABLES, name)), {
    message: `unknown variable; known: ${Object.keys(HOST_TEMPLATE_VARIABLES)
      .map((v) => `{${v}}`)
      .join(', ')}`,
  });

/** Per-source overrides of the defaults; every field optional. */
const ruleOverrides = {
  namespace: dns1123Label.optional(),
  hostTemplate: hostTemplateSchema.optional(),
  allowedHostSuffixes: z.array(z.string().min(1)).optional(),
  allowWildcardHosts: z.boolean().optional(),
  endpointMode: z.enum(['inline', 'workloadEntry']).optional(),
  location: z.enum(['MESH_INTERNAL', 'MESH_EXTERNAL']).optional(),
  exportTo: exportToSchema.optional(),
  defaultProtocol: z.enum(ISTIO_PROTOCOLS).optional(),
  includeHealth: z.array(z.enum(HEALTH_STATES)).min(1).optional(),
  network: z.string().min(1).optional(),
  serviceAccount: z.string().min(1).optional(),
  sidecars: z.boolean().optional(),
  labels: labelsSchema.optional(),
};

const sourceSchema = z.strictObject({ kind: z.enum(REGISTRY_KINDS), ...ruleOverrides });

/** The writer's config as an object schema, without the checks across sections: the CLI extends it. */
export const writerConfigObject = z.strictObject({
  /** Installation name: a label on everything written, so two installations never touch each other's objects. */
  installation: dns1123Label.default('default'),
  http: httpConfigSchema,
  log: logConfigSchema,
  redis: redisConfigSchema,
  kubernetes: z
    .strictObject({
      /** Path to a kubeconfig; in-cluster service account when absent. */
      kubeconfig: z.string().min(1).optional(),
      context: z.string().min(1).optional(),
      qps: z.number().positive().default(50),
      burst: z.number().int().min(1).default(100),
      maxAttempts: z.number().int().min(1).max(20).default(6),
      fieldManager: z.string().min(1).default('registry-bridge'),
      /** The cluster's DNS domain: no host under it (nor under cluster.local) is ever written. */
      clusterDomain: z.string().refine(isDns1123Subdomain, 'must be a DNS-1123 subdomain').default(DEFAULT_CLUSTER_DOMAIN),
    })
    .prefault({}),
  leaderElection: z
    .strictObject({
      enabled: z.boolean().default(true),
      namespace: dns1123Label.default('registry-bridge'),
      leaseName: dns1123Label.default('registry-bridge-writer'),
      /** Pod name in Kubernetes; hostname-pid otherwise. */
      identity: z.string().min(1).optional(),
      leaseDurationSeconds: z.number().int().min(2).default(10),
      renewDeadlineSeconds: z.number().int().min(1).default(7),
      retryPeriodSeconds: z.number().int().min(1).default(2),
    })
    .prefault({}),
  reconcile: z
    .strictObject({
      /** Keys reconciled in parallel (never the same key twice). */
      concurrency: z.number().int().min(1).max(64).default(8),
      /** Ingest jobs processed in parallel; a record of a key not being reconciled is reconciled by its ingest job, so this bounds writes too. */
      ingestConcurrency: z.number().int().min(1).max(64).default(8),
      /** Periodic full reconcile: list what we own, repair drift, find orphans. 0 disables. */
      fullResyncSeconds: z.number().int().min(0).default(300),
    })
    .prefault({}),
  deletion: z
    .strictObject({
      /** A removed service is deleted only after this long. */
      gracePeriodSeconds: z.number().int().min(0).default(60),
      /** At most this many deletions per source within `windowSeconds`... */
      maxDeletes: z.number().int().min(0).default(20),
      /** ...or this percentage of the source's services, whichever is larger. */
      maxDeletePercent: z.number().min(0).max(100).default(10),
      windowSeconds: z.number().int().min(1).default(300),
      /** A source silent for this long counts as unreachable (no deletions). */
      sourceSilenceSeconds: z.number().int().min(1).default(60),
    })
    .prefault({}),
  defaults: z
    .strictObject({
      namespace: dns1123Label.default('istio-system'),
      /** Unset: each registry its own (`.consul`, `.eureka`, `.local` for Cloud Map). */
      allowedHostSuffixes: z.array(z.string().min(1)).optional(),
      allowWildcardHosts: z.boolean().default(false),
      endpointMode: z.enum(['inline', 'workloadEntry']).default('inline'),
      location: z.enum(['MESH_INTERNAL', 'MESH_EXTERNAL']).default('MESH_INTERNAL'),
      exportTo: exportToSchema.default(['*']),
      defaultProtocol: z.enum(ISTIO_PROTOCOLS).default('TCP'),
      includeHealth: z.array(z.enum(HEALTH_STATES)).min(1).default(['healthy']),
      network: z.string().min(1).optional(),
      serviceAccount: z.string().min(1).optional(),
      /** The instances run Istio sidecars (mutual TLS to them); otherwise endpoints with a service account get tlsMode disabled. */
      sidecars: z.boolean().default(false),
      labels: labelsSchema.default({}),
    })
    .prefault({}),
  /** Every source the writer accepts records from, by name; records of other sources are dead-lettered. */
  sources: z.record(sourceNameSchema, sourceSchema).refine((s) => Object.keys(s).length > 0, 'at least one source must be configured'),
  events: z
    .strictObject({
      /** Warning Events for refusals and held deletions on the objects concerned. */
      enabled: z.boolean().default(true),
      /** Also a Normal Event per applied change: one more API write per change, off by default. */
      applied: z.boolean().default(false),
    })
    .prefault({}),
  dashboard: z
    .strictObject({
      enabled: z.boolean().default(false),
      username: z.string().min(1).default('admin'),
      password: secret().optional(),
    })
    .prefault({})
    .refine((d) => !d.enabled || d.password, { message: 'dashboard.password is required when the dashboard is enabled', path: ['password'] }),
});

type WriterConfigShape = z.infer<typeof writerConfigObject>;

/**
 * Checks across sections, run after each section is valid. A source in workloadEntry mode in
 * istio-system would put its WorkloadEntries where Kubernetes Services select them by their
 * registry labels (an instance tagged app=istiod behind istiod's own Service): a config error, so
 * nothing starts with it (the translator refuses it too, for rules built any other way).
 */
export function checkWriterConfig(cfg: Pick<WriterConfigShape, 'defaults' | 'sources'>, ctx: z.RefinementCtx): void {
  for (const [name, s] of Object.entries(cfg.sources)) {
    const mode = s.endpointMode ?? cfg.defaults.endpointMode;
    const namespace = s.namespace ?? cfg.defaults.namespace;
    if (mode === 'workloadEntry' && namespace === ISTIO_ROOT_NAMESPACE) {
      ctx.addIssue({
        code: 'custom',
        path: ['sources', name, 'namespace'],
        message: `source ${name} writes WorkloadEntries (endpointMode workloadEntry) to ${ISTIO_ROOT_NAMESPACE}${s.namespace ? '' : ' (defaults.namespace)'}, where Kubernetes Services would select them by their registry labels; give it a namespace of its own`,
      });
    }
  }
}

export const writerConfigSchema = writerConfigObject.superRefine(checkWriterConfig);

export type WriterConfig = z.infer<typeof writerConfigSchema>;
