export * from './lib/names';
export * from './lib/ownership';
export * from './lib/source-rules';
export * from './lib/translate';
export * from './lib/writer-config.schema';
export * from './lib/live-match';
