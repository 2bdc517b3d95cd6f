import { Redis } from 'ioredis';
import { connect } from 'node:net';
import { makeCerts, PrivateConsul, PrivateRedis } from './private-peers';

// The private peers of the fault suite and the bench, run by scripts/peers/<peer>.sh: a crash, a
// restart on the same port, persistence or none, a freeze, TLS. Real redis-server and Consul.
jest.setTimeout(90_000); // a loaded 2-core machine; each wait inside is bounded by the scripts

const client = (url: string) => new Redis(url, { lazyConnect: true, maxRetriesPerRequest: 0, retryStrategy: () => null, commandTimeout: 1000 });

async function withRedis<T>(url: string, fn: (r: Redis) => Promise<T>): Promise<T> {
  const r = client(url);
  try {
    await r.connect();
    return await fn(r);
  } finally {
    r.disconnect();
  }
}

/** PING over a plain socket: what answers, or an error saying whether the connection was accepted. */
function rawPing(port: number, ms = 1000): Promise<string> {
  return new Promise((res, rej) => {
    let accepted = false;
    const s = connect(port, '127.0.0.1', () => {
      accepted = true;
      s.write('PING\r\n');
    });
    const timer = setTimeout(() => {
      s.destroy();
      rej(new Error(`${accepted ? 'accepted' : 'not accepted'}, no answer within ${ms} ms`));
    }, ms);
    s.once('data', (d) => {
      clearTimeout(timer);
      s.destroy();
      res(d.toString().trim());
    });
    s.once('error', (e) => {
      clearTimeout(timer);
      rej(e);
    });
  });
}

describe('private peers (scripts/peers/<peer>.sh)', () => {
  const started: Array<{ kill(): Promise<void>; thaw(): void }> = [];
  afterAll(async () => {
    for (const p of started) {
      p.thaw();
      await p.kill();
    }
  });

  it.each([
    [true, 'v'],
    [false, null],
  ])('a Redis killed and started again (persistent %s) comes back on its port with %s', async (persistent, after) => {
    const redis = await new PrivateRedis({ persistent }).start();
    started.push(redis);
    const { port } = redis;
    await withRedis(redis.url, (r) => r.set('k', 'v'));
    const pid = redis.pid();
    await redis.kill();
    expect(() => redis.pid()).toThrow('redis is not running');
    await redis.start();
    expect(redis.port).toBe(port);
    expect(redis.pid()).not.toBe(pid);
    expect(await withRedis(redis.url, (r) => r.get('k'))).toBe(after);
  });

  it('a frozen Redis accepts and does not answer; thawed, it answers again', async () => {
    const redis = await new PrivateRedis().start();
    started.push(redis);
    redis.freeze();
    await expect(rawPing(redis.port)).rejects.toThrow('accepted, no answer within 1000 ms');
    redis.thaw();
    expect(await rawPing(redis.port)).toBe('+PONG');
  });

  it('a Consul dev agent over HTTPS only, with a throwaway CA: a restart is a wiped catalog', async () => {
    const certs = makeCerts();
    const consul = await new PrivateConsul(certs).start();
    started.push(consul);
    expect(consul.addr).toMatch(/^https:\/\/127\.0\.0\.1:\d+$/);
    await consul.register({ Name: 'private-web', ID: 'private-web-1', Address: '10.9.0.1', Port: 8080 });
    const services = async () => Object.keys((await (await consul.fetch('/v1/catalog/services')).json()) as Record<string, string[]>);
    expect(await services()).toContain('private-web');
    await consul.kill();
    await consul.start();
    expect(await services()).toEqual(['consul']);
  });
});
