import { RegistryAdapter } from '@registry-bridge/source-kit';
import { readEurekaSource } from './eureka-read';
import { EurekaSourceConfig } from './eureka-source.schema';
import { EurekaSourceWatch, EurekaWatchExtras } from './eureka-watch';

/** The Eureka registry adapter: read() (one full fetch) for one-shot reads, watch() (the lease-held poll) for the collector. */
export const eurekaAdapter: RegistryAdapter<EurekaSourceConfig, EurekaWatchExtras> = {
  kind: 'eureka',
  read: (config, options) => readEurekaSource(config, options),
  watch: (config, context, extras) => new EurekaSourceWatch(config, context, extras),
};
