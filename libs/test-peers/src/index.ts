export * from './lib/peers-env';
export * from './lib/wait-for';
export * from './lib/kube-admin';
export * from './lib/app-process';
export * from './lib/test-writer';
