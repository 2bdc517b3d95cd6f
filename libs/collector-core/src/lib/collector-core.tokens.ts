/** The collector's shared ioredis connection (Redis or Cluster). */
export const COLLECTOR_REDIS = 'COLLECTOR_REDIS';
export const COLLECTOR_CORE_OPTIONS = 'COLLECTOR_CORE_OPTIONS';
