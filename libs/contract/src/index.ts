export * from './lib/record.schema';
export * from './lib/parse-message';
export * from './lib/service-key';
export * from './lib/queues';
export * from './lib/record-producer';
