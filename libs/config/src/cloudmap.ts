export * from './lib/collector-cloudmap.config';
