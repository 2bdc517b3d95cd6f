export * from './lib/peers-env';
