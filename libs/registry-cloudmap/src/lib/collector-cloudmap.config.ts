import { httpConfigSchema, logConfigSchema, redisConfigSchema } from '@registry-bridge/app-config';
import { collectorRuntimeConfigSchema } from '@registry-bridge/collector-core';
import { cloudMapSourcesSchema } from './cloudmap-config.schema';
import { z } from 'zod';

export const collectorCloudMapConfigSchema = z.strictObject({
  http: httpConfigSchema,
  redis: redisConfigSchema,
  log: logConfigSchema,
  collector: collectorRuntimeConfigSchema,
  /** A source stays ready this long after its last successful read (two inventory cadences by default). */
  readinessGraceSeconds: z.number().int().min(1).max(86400).default(150),
  sources: cloudMapSourcesSchema,
});

export type CollectorCloudMapConfig = z.infer<typeof collectorCloudMapConfigSchema>;
