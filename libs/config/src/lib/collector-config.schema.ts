import { httpConfigSchema, logConfigSchema, redisConfigSchema } from '@registry-bridge/app-config';
import { z } from 'zod';

/** Collector runtime settings for an app's config file (`collector:` block). */
export const collectorRuntimeConfigSchema = z
  .strictObject({
    /** Source status heartbeat toward the writer. */
    heartbeatSeconds: z.number().int().min(1).max(300).default(10),
    /** A replica silent this long is dead; its services move to the others. */
    memberTtlSeconds: z.number().int().min(2).max(300).default(6),
  })
  .prefault({});

export type CollectorRuntimeConfig = z.infer<typeof collectorRuntimeConfigSchema>;

/** What every collector's config file has besides its registry's keys and `sources`. */
export const collectorAppShape = {
  http: httpConfigSchema,
  redis: redisConfigSchema,
  log: logConfigSchema,
  collector: collectorRuntimeConfigSchema,
};
