import { CONFIG_FILE_ENV, ENV_OVERRIDE_PREFIX, loadConfig } from '@registry-bridge/app-config';
import { checkWriterConfig, collectorCloudMapConfigSchema, collectorConsulConfigSchema, collectorEurekaConfigSchema, writerConfigObject } from '@registry-bridge/config';
import { CloudMapSourceSettings } from '@registry-bridge/registry-cloudmap';
import { ConsulSourceSettings } from '@registry-bridge/registry-consul';
import { EurekaSourceConfig } from '@registry-bridge/registry-eureka';
import { z } from 'zod';

// Parts the dry run never uses are accepted unchecked: they may hold secrets ({ file } of a
// mounted Redis password) that only the app's own pod can resolve.
const unused = z.unknown().optional();

/** The writer's schema, minus Redis and the dashboard; every other key is validated as the writer does. */
export const dryRunWriterConfigSchema = writerConfigObject.extend({ redis: unused, dashboard: unused }).superRefine(checkWriterConfig);
export type DryRunWriterConfig = z.infer<typeof dryRunWriterConfigSchema>;

const consulSchema = collectorConsulConfigSchema.extend({ redis: unused, http: unused, collector: unused });
const eurekaSchema = collectorEurekaConfigSchema.extend({ redis: unused, http: unused, collector: unused });
const cloudMapSchema = collectorCloudMapConfigSchema.extend({ redis: unused, http: unused, collector: unused });

export type CollectorSource =
  | { kind: 'consul'; file: string; config: ConsulSourceSettings }
  | { kind: 'eureka'; file: string; config: EurekaSourceConfig }
  | { kind: 'cloudmap'; file: string; config: CloudMapSourceSettings };

/**
 * The env a config file is loaded with: the file, and the process env for `{ env: NAME }`
 * secrets, but no `RB__` overrides, since one shell's overrides would apply to all four files at once.
 */
function envFor(file: string, env: NodeJS.ProcessEnv): NodeJS.ProcessEnv {
  const out: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(env)) if (!k.startsWith(ENV_OVERRIDE_PREFIX) && k !== CONFIG_FILE_ENV) out[k] = v;
  out[CONFIG_FILE_ENV] = file;
  return out;
}

export function loadWriterConfig(file: string, env: NodeJS.ProcessEnv = process.env): DryRunWriterConfig {
  return loadConfig(dryRunWriterConfigSchema, envFor(file, env));
}

/** Every source of one collector config file, validated with that collector's own schema. */
export function loadCollectorSources(kind: CollectorSource['kind'], file: string, env: NodeJS.ProcessEnv = process.env): CollectorSource[] {
  const e = envFor(file, env);
  if (kind === 'consul') return loadConfig(consulSchema, e).sources.map((config) => ({ kind, file, config }));
  if (kind === 'eureka') return loadConfig(eurekaSchema, e).sources.map((config) => ({ kind, file, config }));
  return loadConfig(cloudMapSchema, e).sources.map((config) => ({ kind, file, config }));
}
