import { consulSourcesSchema } from '@registry-bridge/registry-consul';
import { z } from 'zod';
import { collectorAppShape } from './collector-config.schema';

/** The Consul collector's config file (RB_CONFIG_FILE) plus RB__a__b=value overrides. */
export const collectorConsulConfigSchema = z.strictObject({
  ...collectorAppShape,
  /** A source stays ready this long after its last successful read (rides out a Consul leader election). */
  readinessGraceSeconds: z.number().int().min(1).max(3600).default(60),
  sources: consulSourcesSchema,
});

export type CollectorConsulConfig = z.infer<typeof collectorConsulConfigSchema>;
