export * from './lib/collector-consul.config';
