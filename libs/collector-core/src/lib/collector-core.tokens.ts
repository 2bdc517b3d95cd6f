/** The collector's shared ioredis connection (Redis or Cluster). */
export const COLLECTOR_REDIS = 'COLLECTOR_REDIS';
export const COLLECTOR_CORE_OPTIONS = 'COLLECTOR_CORE_OPTIONS';
/** The collector app's CollectorAdapter (what CollectorModule.forAdapter was given). */
export const COLLECTOR_ADAPTER = 'COLLECTOR_ADAPTER';
