import { seconds, toMs } from '@registry-bridge/app-config';
import { sourceNameSchema } from '@registry-bridge/contract';
import { z } from 'zod';

/** The Cloud Map APIs the collector calls; each has its own request budget. */
export const CLOUDMAP_APIS = [
  'ListNamespaces',
  'ListServices',
  'GetService',
  'DiscoverInstancesRevision',
  'DiscoverInstances',
  'ListInstances',
  'GetInstancesHealthStatus',
] as const;
export type CloudMapApi = (typeof CLOUDMAP_APIS)[number];

export const NAMESPACE_TYPES = ['HTTP', 'DNS_PRIVATE', 'DNS_PUBLIC'] as const;

const budgetEntrySchema = z
  .object({
    /** Steady requests per second, summed over every replica of the collector. */
    rps: z.number().positive().max(10000),
    /** Bucket size: at most `burst + rps * t` requests in any window of t seconds. */
    burst: z.number().min(1).max(10000).optional(),
  })
  .strict();
export type BudgetEntry = z.infer<typeof budgetEntrySchema>;

/**
 * Defaults: a small fraction of the account quotas (the data-plane Discover* APIs allow
 * about a thousand requests per second, the control-plane List* APIs far fewer), enough for a few
 * hundred services polled every 5 s.
 */
export const DEFAULT_BUDGET: Record<CloudMapApi, BudgetEntry> = {
  ListNamespaces: { rps: 1, burst: 2 },
  ListServices: { rps: 2, burst: 4 },
  GetService: { rps: 2, burst: 2 },
  DiscoverInstancesRevision: { rps: 100, burst: 100 },
  DiscoverInstances: { rps: 50, burst: 50 },
  ListInstances: { rps: 5, burst: 5 },
  GetInstancesHealthStatus: { rps: 5, burst: 5 },
};

const budgetSchema = z
  .object(Object.fromEntries(CLOUDMAP_APIS.map((api) => [api, budgetEntrySchema.optional()])) as Record<CloudMapApi, z.ZodOptional<typeof budgetEntrySchema>>)
  .strict()
  .default({});

const globList = z.array(z.string().min(1).max(256)).max(256).default([]);

export const cloudMapSourceSchema = z
  .object({
    /** Source name as it appears in records (DNS-1123 label), e.g. `cloudmap-prod-euw1`. */
    name: sourceNameSchema,
    region: z.string().regex(/^[a-z]{2}(-[a-z]+)+-\d+$/, 'must be an AWS Region such as eu-west-1'),
    /** Endpoint override (tests, VPC endpoints). The `data-` host prefix is then not applied. */
    endpoint: z.string().url().optional(),
    /** Shared-config profile; default: the AWS default provider chain. */
    profile: z.string().min(1).max(128).optional(),
    /** Role assumed on top of the base credentials (cross-account sources). */
    assumeRole: z
      .object({
        roleArn: z.string().regex(/^arn:aws[a-z-]*:iam::\d{12}:role\/.+$/, 'must be an IAM role ARN'),
        externalId: z.string().min(2).max(1224).optional(),
        sessionName: z.string().regex(/^[\w+=,.@-]{2,64}$/).optional(),
        durationSeconds: z.number().int().min(900).max(43200).default(3600),
      })
      .strict()
      .optional(),
    /** Namespaces to read: by name, id or glob pattern (`*`, `?`), and kind. Empty = every namespace. */
    namespaces: z
      .object({
        names: globList,
        ids: globList,
        patterns: globList,
        types: z.array(z.enum(NAMESPACE_TYPES)).default([...NAMESPACE_TYPES]),
      })
      .strict()
      .default({ names: [], ids: [], patterns: [], types: [...NAMESPACE_TYPES] }),
    /** Service name globs; deny wins over allow; an empty allow list allows every service. */
    services: z.object({ allow: globList, deny: globList }).strict().default({ allow: [], deny: [] }),
    budget: budgetSchema,
    intervals: z
      .object({
        /** ListNamespaces + ListServices (full pagination), and the complete snapshot. */
        inventorySeconds: z.number().min(1).max(86400).default(60),
        /** DiscoverInstancesRevision per owned service. */
        revisionSeconds: z.number().min(0.2).max(3600).default(5),
        /** Forced DiscoverInstances re-read, because health changes do not move the revision. */
        healthSeconds: z.number().min(1).max(86400).default(30),
        /** sourceStatus heartbeat. */
        statusSeconds: z.number().min(1).max(3600).default(15),
        /** After a failed inventory the next one is tried this soon (at most inventorySeconds): an API that answers again is seen within seconds. */
        retrySeconds: z.number().min(0.2).max(3600).default(2),
      })
      .strict()
      .default({ inventorySeconds: 60, revisionSeconds: 5, healthSeconds: 30, statusSeconds: 15, retrySeconds: 2 }),
    /** DiscoverInstances MaxResults (1000 is the API maximum); a full page falls back to ListInstances. */
    discoverMaxResults: z.number().int().min(1).max(1000).default(1000),
    /** Services polled at once (the budget, not this, bounds the request rate). */
    concurrency: z.number().int().min(1).max(256).default(8),
    requestTimeoutSeconds: seconds(0.1, 120).default(10),
    throttle: z
      .object({
        maxRetries: z.number().int().min(0).max(20).default(5),
        /** Backoff of a throttled request: from this... */
        baseDelaySeconds: seconds(0.001, 60).default(0.2),
        /** ...doubling per retry up to this. */
        maxDelaySeconds: seconds(0.001, 600).default(20),
        /** Each ThrottlingException halves the shared rate down to this fraction of the budget... */
        minFactor: z.number().min(0.01).max(1).default(0.05),
        /** ...and it climbs back by this fraction of the budget per second. */
        recoveryPerSecond: z.number().min(0.001).max(10).default(0.05),
      })
      .strict()
      .default({ maxRetries: 5, baseDelaySeconds: 0.2, maxDelaySeconds: 20, minFactor: 0.05, recoveryPerSecond: 0.05 }),
    /**
     * Resolve every service's namespace with GetService (cached; a service never changes namespace)
     * instead of trusting the ListServices NAMESPACE_ID filter. Only for API implementations that
     * ignore the filter (moto); AWS honours it. A service listed under two namespaces is always resolved.
     */
    verifyServiceNamespace: z.boolean().default(false),
    /** Instance attribute carrying the port protocol (HTTP, GRPC, ...), if any. */
    protocolAttribute: z.string().min(1).max(255).default('protocol'),
  })
  .strict();

/** A source as configured (durations in seconds). */
export type CloudMapSourceSettings = z.infer<typeof cloudMapSourceSchema>;
export type CloudMapSourceInput = z.input<typeof cloudMapSourceSchema>;

/** What the client and the watcher run on: the request timeout and the throttle backoff in milliseconds. */
export type CloudMapSourceConfig = Omit<CloudMapSourceSettings, 'requestTimeoutSeconds' | 'throttle'> & {
  requestTimeoutMs: number;
  throttle: Omit<CloudMapSourceSettings['throttle'], 'baseDelaySeconds' | 'maxDelaySeconds'> & { baseDelayMs: number; maxDelayMs: number };
};

/** What a request budget reads of a source (either shape). */
export interface BudgetSettings {
  budget: CloudMapSourceSettings['budget'];
  throttle: Pick<CloudMapSourceSettings['throttle'], 'minFactor' | 'recoveryPerSecond'>;
}

/** The one place a configured source's seconds become the client's milliseconds. */
export function toSourceOptions(s: CloudMapSourceSettings): CloudMapSourceConfig {
  const { requestTimeoutSeconds, throttle, ...rest } = s;
  const { baseDelaySeconds, maxDelaySeconds, ...limits } = throttle;
  return { ...rest, requestTimeoutMs: toMs(requestTimeoutSeconds), throttle: { ...limits, baseDelayMs: toMs(baseDelaySeconds), maxDelayMs: toMs(maxDelaySeconds) } };
}

export function budgetFor(config: Pick<BudgetSettings, 'budget'>, api: CloudMapApi): Required<BudgetEntry> {
  const entry = config.budget[api] ?? DEFAULT_BUDGET[api];
  return { rps: entry.rps, burst: entry.burst ?? Math.max(1, entry.rps) };
}

export const cloudMapSourcesSchema = z
  .array(cloudMapSourceSchema)
  .min(1)
  .refine((s) => new Set(s.map((x) => x.name)).size === s.length, { message: 'source names must be unique' });
