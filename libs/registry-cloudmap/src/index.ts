export * from './lib/cloudmap-config.schema';
export * from './lib/name-filter.util';
export * from './lib/cloudmap-normalize.util';
export * from './lib/request-budget.service';
export * from './lib/redis-request-budget.service';
export * from './lib/cloudmap-api.client';
export * from './lib/cloudmap-reader.service';
export * from './lib/cloudmap-watcher.service';
