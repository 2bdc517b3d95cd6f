export * from './lib/names';
export * from './lib/ownership';
export * from './lib/source-rules';
export * from './lib/translate';
export * from './lib/writer-rules';
export * from './lib/live-match';
