import { Inject, Injectable, Module } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { z } from 'zod';
import { APP_CONFIG, AppConfigModule } from './app-config.module';
import { httpConfigSchema } from './common.config';

const schema = z.object({ http: httpConfigSchema, name: z.string() });

@Injectable()
class UsesConfig {
  constructor(@Inject(APP_CONFIG) readonly config: z.infer<typeof schema>) {}
}

describe('AppConfigModule', () => {
  it('provides the typed config under APP_CONFIG', async () => {
    @Module({ imports: [AppConfigModule.forRoot(schema, { RB__name: 'w', RB__http__port: '9090' })], providers: [UsesConfig] })
    class AppModule {}
    const app = await NestFactory.createApplicationContext(AppModule, { logger: false });
    expect(app.get(UsesConfig).config).toEqual({ http: { port: 9090, host: '0.0.0.0' }, name: 'w' });
    await app.close();
  });

  it('stops the app at start with the ConfigError message', async () => {
    @Module({ imports: [AppConfigModule.forRoot(schema, { RB__name: '1', RB__nmae: 'x' })] })
    class AppModule {}
    await expect(NestFactory.createApplicationContext(AppModule, { logger: false, abortOnError: false })).rejects.toThrow('config: nmae: unknown key (from env RB__nmae)');
  });
});
