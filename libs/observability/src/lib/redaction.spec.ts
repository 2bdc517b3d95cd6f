import { Writable } from 'node:stream';
import { createLogger, isQuietRequest } from './logging.module';
import { scrubSecrets } from './redaction';

function capture() {
  const lines: Record<string, unknown>[] = [];
  const destination = new Writable({
    write(chunk, _enc, done) {
      lines.push(...String(chunk).trim().split('\n').map((l) => JSON.parse(l)));
      done();
    },
  });
  return { lines, destination };
}

describe('JSON logger', () => {
  it('writes JSON with the app name and redacts secrets at any usual depth', () => {
    const { lines, destination } = capture();
    const log = createLogger({ app: 'collector-consul', destination });
    log.info(
      {
        password: 'p0',
        redis: { password: 'p1', tls: { enabled: true } },
        source: { consul: { token: 't1' }, aws: { credentials: { secretAccessKey: 'k1', accessKeyId: 'AKIA' } } },
        req: { headers: { authorization: 'Bearer x', 'x-consul-token': 'ct', accept: '*/*' } },
      },
      'config loaded',
    );
    const text = JSON.stringify(lines);
    for (const secret of ['p0', 'p1', 't1', 'k1', 'Bearer x', '"ct"']) expect(text).not.toContain(secret);
    expect(lines[0]).toMatchObject({
      app: 'collector-consul',
      level: 'info',
      msg: 'config loaded',
      redis: { password: '[redacted]', tls: { enabled: true } },
      source: { aws: { credentials: { accessKeyId: 'AKIA' } } },
      req: { headers: { accept: '*/*' } },
    });
  });

  it('redacts deep inside lists and errors, including the AUTH arguments of an ioredis error, without touching the original', () => {
    const { lines, destination } = capture();
    const log = createLogger({ app: 'writer', destination });
    const err = Object.assign(new Error('WRONGPASS'), { command: { name: 'auth', args: ['default', 'hunter2'] } });
    const cfg = { a: { b: { c: { d: { sources: [{ name: 's', Token: 'deep-secret' }] } } } } };
    log.error({ err, cfg, headers: { 'X-Consul-Token': 'hdr' } }, 'failed');
    const text = JSON.stringify(lines);
    for (const secret of ['hunter2', 'deep-secret', '"hdr"']) expect(text).not.toContain(secret);
    expect(lines[0]).toMatchObject({ err: { type: 'Error', message: 'WRONGPASS', command: { name: 'auth', args: '[redacted]' } }, cfg: { a: { b: { c: { d: { sources: [{ name: 's' }] } } } } } });
    expect(err.command.args[1]).toBe('hunter2');
    expect(cfg.a.b.c.d.sources[0].Token).toBe('deep-secret');
  });

  it('returns objects without secrets as they are (no copy)', () => {
    const o = { a: [{ b: 1 }], c: new Date(0) };
    expect(scrubSecrets(o)).toBe(o);
  });

  it('refuses an unknown level', () => {
    expect(() => createLogger({ app: 'x', level: 'loud' })).toThrow(/log level "loud"/);
  });

  it.each([
    ['/health/live', true],
    ['/health/ready?verbose=1', true],
    ['/metrics', true],
    ['/healthz', false],
    ['/admin/queues', false],
  ])('treats %s as quiet: %s', (url, quiet) => {
    expect(isQuietRequest(url)).toBe(quiet);
  });
});
