import { cloudMapSourcesSchema } from '@registry-bridge/registry-cloudmap';
import { z } from 'zod';
import { collectorAppShape } from './collector-config.schema';

/** The Cloud Map collector's config file (RB_CONFIG_FILE) plus RB__a__b=value overrides. */
export const collectorCloudMapConfigSchema = z.strictObject({
  ...collectorAppShape,
  /** A source stays ready this long after its last successful read (two inventory cadences by default). */
  readinessGraceSeconds: z.number().int().min(1).max(86400).default(150),
  sources: cloudMapSourcesSchema,
});

export type CollectorCloudMapConfig = z.infer<typeof collectorCloudMapConfigSchema>;
