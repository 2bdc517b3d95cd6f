import { NestFactory } from '@nestjs/core';
import { APP_CONFIG } from '@registry-bridge/app-config';
import { useJsonLogger } from '@registry-bridge/observability';
import { AppModule } from './app/app.module';
import type { CollectorEurekaConfig } from '@registry-bridge/config/eureka';

async function bootstrap(): Promise<void> {
  const app = await NestFactory.create(AppModule, { bufferLogs: true });
  useJsonLogger(app);
  app.enableShutdownHooks();
  const { http } = app.get<CollectorEurekaConfig>(APP_CONFIG);
  await app.listen(http.port, http.host);
}

bootstrap().catch((err: Error) => {
  // A config error names the bad key; print it plainly and exit non-zero.
  process.stderr.write(`collector-eureka failed to start: ${err.message}\n`);
  process.exit(1);
});
