export * from './lib/source-tls';
export * from './lib/name-glob';
export * from './lib/change-tracker';
export * from './lib/source-emitter';
export * from './lib/source-read';
export * from './lib/registry-adapter';
export * from './lib/source-watch';
