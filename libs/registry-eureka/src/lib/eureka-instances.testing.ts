import type { EurekaInstanceJson } from './eureka-payload';
import { LocalRegistry } from './local-registry';

/** The specs' clock start (epoch ms). */
export const T0 = 1_800_000_000_000;

/** An instance of `app` as Eureka's JSON has it, with any field overridden. */
export const testInstance = (app: string, id: string, status = 'UP', over: Partial<EurekaInstanceJson> = {}): EurekaInstanceJson => ({
  app,
  instanceId: id,
  hostName: `${id}.local`,
  ipAddr: '10.0.0.1',
  status,
  port: { $: 8080, '@enabled': 'true' },
  lastDirtyTimestamp: String(T0 - 1000),
  lastUpdatedTimestamp: String(T0 - 1000),
  ...over,
});

/** The instances grouped by app, as a full fetch's payload has them. */
export function appsOf(instances: EurekaInstanceJson[]): Map<string, EurekaInstanceJson[]> {
  const apps = new Map<string, EurekaInstanceJson[]>();
  for (const i of instances) apps.set(i.app ?? '', [...(apps.get(i.app ?? '') ?? []), i]);
  return apps;
}

/** A local copy holding these instances. */
export function localRegistryOf(instances: EurekaInstanceJson[]): LocalRegistry {
  const local = new LocalRegistry();
  local.replace({ hashCode: '', apps: appsOf(instances) });
  return local;
}
