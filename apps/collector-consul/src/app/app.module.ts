import { Module } from '@nestjs/common';
import { CollectorModule } from '@registry-bridge/collector-core';
import { collectorConsulConfigSchema } from '@registry-bridge/config/consul';
import { consulCollector } from './consul-collector';

export const APP_NAME = 'collector-consul';

/** The Consul collector: the shared collector runtime around the Consul adapter. */
@Module({
  imports: [CollectorModule.forAdapter({ app: APP_NAME, schema: collectorConsulConfigSchema, adapter: consulCollector })],
})
export class AppModule {}
