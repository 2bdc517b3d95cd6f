import { Global, Module } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { Logger } from 'nestjs-pino';
import { Writable } from 'node:stream';
import { LoggingModule, useJsonLogger } from './logging.module';

// A file of its own: nestjs-pino keeps its root logger in a static, so one app per test file.

describe('LoggingModule.forConfig', () => {
  it('takes the level from the app config only: LOG_LEVEL in the environment changes nothing', async () => {
    const lines: Array<Record<string, unknown>> = [];
    const destination = new Writable({
      write(chunk, _enc, done) {
        lines.push(...String(chunk).trim().split('\n').map((l) => JSON.parse(l)));
        done();
      },
    });
    @Global()
    @Module({ providers: [{ provide: 'CFG', useValue: { log: { level: 'error' } } }], exports: ['CFG'] })
    class ConfigStub {}
    @Module({ imports: [ConfigStub, LoggingModule.forConfig({ app: 'writer', destination, inject: ['CFG'], level: (cfg: { log: { level: string } }) => cfg.log.level })] })
    class LevelAppModule {}
    const before = process.env['LOG_LEVEL'];
    process.env['LOG_LEVEL'] = 'trace';
    const app = await NestFactory.create(LevelAppModule, { bufferLogs: true });
    try {
      useJsonLogger(app);
      await app.init();
      app.get(Logger).error('loud');
      app.get(Logger).log('quiet');
      await new Promise((r) => setTimeout(r, 50));
      expect(lines.map((l) => l['level'])).toEqual(['error']);
      expect(lines[0]).toMatchObject({ app: 'writer', msg: 'loud' });
    } finally {
      await app.close();
      if (before === undefined) delete process.env['LOG_LEVEL'];
      else process.env['LOG_LEVEL'] = before;
    }
  });
});
