import { seconds } from '@registry-bridge/app-config';
import { eurekaSourcesSchema } from '@registry-bridge/registry-eureka';
import { z } from 'zod';
import { collectorAppShape } from './collector-config.schema';

/** The Eureka collector's config file (RB_CONFIG_FILE) plus RB__a__b=value overrides. */
export const collectorEurekaConfigSchema = z.strictObject({
  ...collectorAppShape,
  /** A standby replica tries to take a source's lease this often, so takeover happens within seconds. */
  leaseCheckSeconds: seconds(0.2, 60).default(1),
  /**
   * A source stays ready this long after its last successful read (plus its request timeouts);
   * unset: three poll intervals of the source.
   */
  readinessGraceSeconds: seconds(1, 86400).optional(),
  /** One entry per Eureka cluster. */
  sources: eurekaSourcesSchema,
});

export type CollectorEurekaConfig = z.infer<typeof collectorEurekaConfigSchema>;
