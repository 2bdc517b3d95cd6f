import { Writable } from 'node:stream';
import { createLogger, isQuietRequest } from './logging.module';

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
