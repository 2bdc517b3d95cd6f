export * from './lib/peers-env';
export * from './lib/wait-for';
