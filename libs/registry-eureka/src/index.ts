export * from './lib/eureka-payload';
export * from './lib/reconcile-hash';
export * from './lib/local-registry';
export * from './lib/eureka-normalizer';
export * from './lib/eureka-rest.client';
export * from './lib/self-preservation';
export * from './lib/app-filter';
export * from './lib/eureka-source.syncer';
