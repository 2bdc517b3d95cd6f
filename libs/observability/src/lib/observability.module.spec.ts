import { Controller, Get, INestApplication, Module } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { Writable } from 'node:stream';
import { LoggingModule, useJsonLogger } from './logging.module';
import { MetricsModule } from './metrics.module';
import { MetricsService } from './metrics.service';

@Controller()
class PingController {
  @Get('ping')
  ping() {
    return { ok: true };
  }
}

describe('LoggingModule + MetricsModule in an app', () => {
  let app: INestApplication;
  let base: string;
  const lines: Array<Record<string, unknown>> = [];

  beforeAll(async () => {
    const destination = new Writable({
      write(chunk, _enc, done) {
        lines.push(...String(chunk).trim().split('\n').map((l) => JSON.parse(l)));
        done();
      },
    });
    @Module({ imports: [LoggingModule.forRoot({ app: 'writer', destination }), MetricsModule], controllers: [PingController] })
    class TestAppModule {}
    app = await NestFactory.create(TestAppModule, { bufferLogs: true });
    useJsonLogger(app);
    await app.listen(0, '127.0.0.1');
    base = await app.getUrl();
  });
  afterAll(() => app.close());

  it('serves Prometheus text on /metrics without logging the scrape', async () => {
    app.get(MetricsService).counter('registry_bridge_test_total', 'test').inc();
    lines.length = 0;
    const res = await fetch(`${base}/metrics`);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/^text\/plain;.*version=0\.0\.4/);
    expect(await res.text()).toContain('registry_bridge_test_total 1');
    expect(lines.filter((l) => l['req'])).toEqual([]);
  });

  it('logs ordinary requests as JSON with the app name and without credentials', async () => {
    lines.length = 0;
    await fetch(`${base}/ping`, { headers: { authorization: 'Bearer sekret' } });
    await new Promise((r) => setTimeout(r, 50));
    const line = lines.find((l) => l['req']);
    expect(line).toMatchObject({ app: 'writer', req: { url: '/ping', headers: { authorization: '[redacted]' } } });
    expect(JSON.stringify(lines)).not.toContain('sekret');
  });
});
