export * from './lib/token-bucket';
export * from './lib/kube-client';
export * from './lib/lease-elector';
export * from './lib/event-recorder';
export * from './lib/reuse-connections';
