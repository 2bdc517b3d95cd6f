export * from './lib/source-tls';
