export * from './lib/writer-config.schema';
