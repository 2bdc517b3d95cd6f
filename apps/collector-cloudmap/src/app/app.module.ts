import { Module } from '@nestjs/common';
import { CollectorModule } from '@registry-bridge/collector-core';
import { collectorCloudMapConfigSchema } from '@registry-bridge/config/cloudmap';
import { cloudMapCollector } from './cloudmap-collector';

export const APP_NAME = 'collector-cloudmap';

/** The Cloud Map collector: the shared collector runtime around the Cloud Map adapter. */
@Module({
  imports: [CollectorModule.forAdapter({ app: APP_NAME, schema: collectorCloudMapConfigSchema, adapter: cloudMapCollector })],
})
export class AppModule {}
