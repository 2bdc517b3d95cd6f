import { httpConfigSchema, logConfigSchema, redisConfigSchema } from '@registry-bridge/app-config';
import { collectorRuntimeConfigSchema } from '@registry-bridge/collector-core';
import { consulSourcesSchema } from './consul-source.schema';
import { z } from 'zod';

export const collectorConsulConfigSchema = z.strictObject({
  http: httpConfigSchema,
  redis: redisConfigSchema,
  log: logConfigSchema,
  collector: collectorRuntimeConfigSchema,
  /** A source stays ready this long after its last successful read (rides out a Consul leader election). */
  readinessGraceSeconds: z.number().int().min(1).max(3600).default(60),
  sources: consulSourcesSchema,
});

export type CollectorConsulConfig = z.infer<typeof collectorConsulConfigSchema>;
