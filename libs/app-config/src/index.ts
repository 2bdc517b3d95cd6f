export * from './lib/load-config';
export * from './lib/config-renames';
export * from './lib/strict-deep';
export * from './lib/secret.schema';
export * from './lib/redis.config';
export * from './lib/common.config';
export * from './lib/tls-files';
export * from './lib/app-config.module';
