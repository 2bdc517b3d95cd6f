import { NestFactory } from '@nestjs/core';
import { APP_CONFIG } from '@registry-bridge/app-config';
import { createLogger, useJsonLogger } from '@registry-bridge/observability';
import { AppModule, APP_NAME } from './app/app.module';
import { CollectorConsulConfig } from '@registry-bridge/config/consul';

async function bootstrap(): Promise<void> {
  const app = await NestFactory.create(AppModule, { bufferLogs: true });
  useJsonLogger(app);
  app.enableShutdownHooks();
  const cfg = app.get<CollectorConsulConfig>(APP_CONFIG);
  await app.listen(cfg.http.port, cfg.http.host);
}

bootstrap().catch((err: Error) => {
  // Config errors name the bad key and never carry a value; print them plainly and stop.
  createLogger({ app: APP_NAME }).fatal({ err: { name: err.name, message: err.message } }, 'collector-consul failed to start');
  process.exit(1);
});
