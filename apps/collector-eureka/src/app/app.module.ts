import { Module } from '@nestjs/common';
import { CollectorModule } from '@registry-bridge/collector-core';
import { collectorEurekaConfigSchema } from '@registry-bridge/config/eureka';
import { eurekaCollector } from './eureka-collector';

export const APP_NAME = 'collector-eureka';

/** The Eureka collector: the shared collector runtime around the Eureka adapter. */
@Module({
  imports: [CollectorModule.forAdapter({ app: APP_NAME, schema: collectorEurekaConfigSchema, adapter: eurekaCollector })],
})
export class AppModule {}
