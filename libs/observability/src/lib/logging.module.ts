import { DynamicModule, INestApplication, InjectionToken, Module } from '@nestjs/common';
import type { IncomingMessage } from 'node:http';
import { hostname } from 'node:os';
import { Logger, LoggerModule } from 'nestjs-pino';
import pino from 'pino';
import type { Options as HttpLoggerOptions } from 'pino-http';
import { REDACT_CENSOR, REDACT_PATHS, scrubSecrets } from './redaction';

export interface LoggingOptions {
  /** Goes into every line as `app`, so one log pipeline can hold all four apps. */
  app: string;
  /** pino level (the app's `log.level`); `info` when not given. */
  level?: string;
  /** Where lines go; stdout unless given (tests pass a stream to read them back). */
  destination?: pino.DestinationStream;
}

const LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'];

// Probes and scrapes hit these every few seconds; logging them drowns everything else.
const QUIET_PATHS = /^\/(health(\/[^?]*)?|metrics)(\?.*)?$/;

export function isQuietRequest(url: string | undefined): boolean {
  return QUIET_PATHS.test(url ?? '');
}

/** Plain pino options shared by the Nest logger and `createLogger` (for code that runs before Nest). */
export function pinoOptions(options: LoggingOptions): pino.LoggerOptions {
  const level = options.level ?? 'info';
  if (!LEVELS.includes(level)) throw new Error(`log level "${level}" is not one of ${LEVELS.join(', ')}`);
  return {
    level,
    base: { app: options.app, pid: process.pid, hostname: hostname() },
    timestamp: pino.stdTimeFunctions.isoTime,
    redact: { paths: REDACT_PATHS, censor: REDACT_CENSOR },
    formatters: { level: (label) => ({ level: label }), log: (object) => scrubSecrets(object) },
  };
}

export function createLogger(options: LoggingOptions): pino.Logger {
  return options.destination ? pino(pinoOptions(options), options.destination) : pino(pinoOptions(options));
}

function pinoHttp(options: LoggingOptions): HttpLoggerOptions | [HttpLoggerOptions, pino.DestinationStream] {
  const httpOptions: HttpLoggerOptions = {
    ...pinoOptions(options),
    autoLogging: { ignore: (req: IncomingMessage) => isQuietRequest(req.url) },
    // 4xx are the caller's problem and 2xx are routine: only server errors are loud.
    customLogLevel: (_req, res, err) => (err || res.statusCode >= 500 ? 'error' : 'info'),
  };
  return options.destination ? [httpOptions, options.destination] : httpOptions;
}

@Module({})
export class LoggingModule {
  static forRoot(options: LoggingOptions): DynamicModule {
    return { module: LoggingModule, global: true, imports: [LoggerModule.forRoot({ pinoHttp: pinoHttp(options) })], exports: [LoggerModule] };
  }

  /** The level from the app's config (e.g. `inject: [APP_CONFIG], level: (cfg) => cfg.log.level`), its only source. */
  static forConfig<A extends unknown[]>(options: Omit<LoggingOptions, 'level'> & { inject: InjectionToken[]; level: (...deps: A) => string }): DynamicModule {
    const { inject, level, ...rest } = options;
    return {
      module: LoggingModule,
      global: true,
      imports: [LoggerModule.forRootAsync({ inject, useFactory: (...deps: unknown[]) => ({ pinoHttp: pinoHttp({ ...rest, level: level(...(deps as A)) }) }) })],
      exports: [LoggerModule],
    };
  }
}

/** Routes Nest's own logging through pino; call right after `NestFactory.create(..., { bufferLogs: true })`. */
export function useJsonLogger(app: INestApplication): void {
  app.useLogger(app.get(Logger));
  app.flushLogs();
}
