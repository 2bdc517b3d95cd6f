import { DynamicModule, Inject, Module } from '@nestjs/common';
import { ConfigModule, ConfigService } from '@nestjs/config';
import { z } from 'zod';
import { loadConfig } from './load-config';

/** Injection token of the app's validated, typed config: `@Inject(APP_CONFIG) cfg: MyConfig`. */
export const APP_CONFIG = 'APP_CONFIG';
export const InjectAppConfig = () => Inject(APP_CONFIG);

@Module({})
export class AppConfigModule {
  /**
   * Validates the config while the module graph is built, so a bad config stops the app at
   * start with the `ConfigError` message (which names each bad key and its source).
   */
  static forRoot<S extends z.ZodType>(schema: S, env?: NodeJS.ProcessEnv): DynamicModule {
    return {
      module: AppConfigModule,
      global: true,
      imports: [
        ConfigModule.forRoot({
          isGlobal: true,
          ignoreEnvFile: true,
          // `processEnv` is a copy of process.env; `env` lets a test pass its own.
          validate: (processEnv) => ({ app: loadConfig(schema, env ?? processEnv) }),
        }),
      ],
      providers: [{ provide: APP_CONFIG, inject: [ConfigService], useFactory: (config: ConfigService) => config.get('app') }],
      exports: [APP_CONFIG],
    };
  }
}
