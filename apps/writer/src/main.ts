import 'reflect-metadata';
import { NestFactory } from '@nestjs/core';
import { APP_CONFIG, ConfigError } from '@registry-bridge/app-config';
import { useJsonLogger } from '@registry-bridge/observability';
import { WriterConfig } from '@registry-bridge/config/writer';
import { uninstallMain } from './uninstall/uninstall';

async function bootstrap(): Promise<void> {
  // Loaded here, not at the top: the modules validate the writer's config as they load, which the
  // `uninstall` entrypoint (below) has none of.
  const { AppModule } = await import('./app/app.module');
  const { mountQueueDashboard } = await import('./app/queue-dashboard');
  const { WriterConnections } = await import('./app/writer-connections.service');
  const app = await NestFactory.create(AppModule, { bufferLogs: true });
  useJsonLogger(app);
  app.enableShutdownHooks();
  const cfg = app.get<WriterConfig>(APP_CONFIG);
  if (cfg.dashboard.enabled && cfg.dashboard.password) {
    mountQueueDashboard(app, app.get(WriterConnections).queueList(), cfg.dashboard.username, cfg.dashboard.password);
  }
  await app.listen(cfg.http.port, cfg.http.host);
}

// `node main.js uninstall`: the chart's post-delete Job (uninstall.deleteWrittenResources).
if (process.argv[2] === 'uninstall') void uninstallMain();
else bootstrap().catch((err: unknown) => {
  // A bad config names its keys; print that alone rather than a stack trace.
  const message = err instanceof ConfigError ? err.message : err instanceof Error ? (err.stack ?? err.message) : String(err);
  process.stderr.write(`registry-bridge writer failed to start: ${message}\n`);
  process.exit(1);
});
