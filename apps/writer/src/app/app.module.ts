import { Module } from '@nestjs/common';
import { AppConfigModule } from '@registry-bridge/app-config';
import { LoggingModule, MetricsModule, RedisHealthModule } from '@registry-bridge/observability';
import { HealthController } from './health.controller';
import { StatusController } from './status.controller';
import { writerConfigSchema } from '@registry-bridge/translation';
import { WriterService } from './writer.service';

@Module({
  imports: [AppConfigModule.forRoot(writerConfigSchema), LoggingModule.forRoot({ app: 'writer', level: process.env['RB_LOG_LEVEL'] ?? 'info' }), MetricsModule, RedisHealthModule],
  controllers: [HealthController, StatusController],
  providers: [WriterService],
})
export class AppModule {}
