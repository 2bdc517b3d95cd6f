export * from './lib/token-bucket';
export * from './lib/kube-client';
export * from './lib/lease-elector';
