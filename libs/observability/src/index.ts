export * from './lib/redaction';
export * from './lib/logging.module';
export * from './lib/metrics.service';
export * from './lib/metrics.controller';
export * from './lib/metrics.module';
export * from './lib/redis-health.indicator';
