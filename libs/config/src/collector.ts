export * from './lib/collector-config.schema';
