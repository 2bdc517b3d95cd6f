export * from './lib/blocking-index';
export * from './lib/consul-source.schema';
export * from './lib/service-filter';
export * from './lib/consul-normalize';
