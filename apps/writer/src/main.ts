import 'reflect-metadata';
import { NestFactory } from '@nestjs/core';
import { APP_CONFIG, ConfigError } from '@registry-bridge/app-config';
import { useJsonLogger } from '@registry-bridge/observability';
import { AppModule } from './app/app.module';
import { mountQueueDashboard } from './app/queue-dashboard';
import { WriterConnections } from './app/writer-connections.service';
import { WriterConfig } from '@registry-bridge/translation';

async function bootstrap(): Promise<void> {
  const app = await NestFactory.create(AppModule, { bufferLogs: true });
  useJsonLogger(app);
  app.enableShutdownHooks();
  const cfg = app.get<WriterConfig>(APP_CONFIG);
  if (cfg.dashboard.enabled && cfg.dashboard.password) {
    mountQueueDashboard(app, app.get(WriterConnections).queueList(), cfg.dashboard.username, cfg.dashboard.password);
  }
  await app.listen(cfg.http.port, cfg.http.host);
}

bootstrap().catch((err: unknown) => {
  // A bad config names its keys; print that alone rather than a stack trace.
  const message = err instanceof ConfigError ? err.message : err instanceof Error ? (err.stack ?? err.message) : String(err);
  process.stderr.write(`registry-bridge writer failed to start: ${message}\n`);
  process.exit(1);
});
