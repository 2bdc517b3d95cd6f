import { httpConfigSchema, redisConfigSchema } from '@registry-bridge/app-config';
import { collectorRuntimeConfigSchema } from '@registry-bridge/collector-core';
import { eurekaSourcesSchema } from './eureka-source.schema';
import { z } from 'zod';

/** The Eureka collector's config file (RB_CONFIG_FILE) plus RB__a__b=value overrides. */
export const collectorEurekaConfigSchema = z.strictObject({
  redis: redisConfigSchema,
  http: httpConfigSchema,
  collector: collectorRuntimeConfigSchema,
  eureka: z.strictObject({
    /** One entry per Eureka cluster. */
    sources: eurekaSourcesSchema,
    /** A standby replica tries to take a source's lease this often, so takeover happens within seconds. */
    leaseCheckSeconds: z.number().min(0.2).max(60).default(1),
    /** Ready while the source was read successfully within this many poll intervals. */
    readyPolls: z.number().int().min(1).max(100).default(3),
  }),
});

export type CollectorEurekaConfig = z.infer<typeof collectorEurekaConfigSchema>;
