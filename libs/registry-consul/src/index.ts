export * from './lib/blocking-index';
export * from './lib/consul-source.schema';
export * from './lib/service-filter';
export * from './lib/consul-normalize';
export * from './lib/consul-http.client';
export * from './lib/consul-client.factory';
export * from './lib/consul-source.watcher';
export * from './lib/collector-consul.config';
