import { gzipSync } from 'node:zlib';
import { EurekaRestClient, EurekaUnavailableError, redactUrl } from './eureka-rest.client';
import { FakeEurekaServer } from './fake-eureka.testing';

// A loopback port nobody listens on: connection refused at once.
const DEAD = 'http://127.0.0.1:9/eureka';

describe('EurekaRestClient', () => {
  const a = new FakeEurekaServer();
  const b = new FakeEurekaServer();
  let urlA: string;
  let urlB: string;
  beforeAll(async () => {
    urlA = await a.start();
    urlB = await b.start();
  });
  afterAll(async () => {
    await a.stop();
    await b.stop();
  });
  beforeEach(() => {
    a.requests.length = 0;
    b.requests.length = 0;
    a.json({ '/apps': { applications: { apps__hashcode: 'A' } } });
    b.json({ '/apps': { applications: { apps__hashcode: 'B' } } });
  });

  it('fails over past a dead URL and then sticks to the one that answered', async () => {
    const client = new EurekaRestClient({ serviceUrls: [DEAD, urlB], timeoutMs: 2000 });
    const first = await client.getApplications();
    expect(JSON.parse(first.body).applications.apps__hashcode).toBe('B');
    expect(client.activeServer).toBe(urlB);
    await client.getApplications();
    expect(b.requests).toHaveLength(2);
    client.close();
  });

  it('fails over on a 5xx but returns a 4xx as the cluster answer', async () => {
    a.json({ '/apps': 503, '/apps/delta': 403 });
    const client = new EurekaRestClient({ serviceUrls: [urlA, urlB] });
    expect(JSON.parse((await client.getApplications()).body).applications.apps__hashcode).toBe('B');
    const c2 = new EurekaRestClient({ serviceUrls: [urlA, urlB] });
    expect((await c2.getDelta()).status).toBe(403);
    expect(b.requests.filter((r) => r.path.endsWith('/delta'))).toHaveLength(0);
    client.close();
    c2.close();
  });

  it('times out a stalled server and moves on', async () => {
    a.handler = () => undefined; // never answers
    const client = new EurekaRestClient({ serviceUrls: [urlA, urlB], timeoutMs: 200 });
    const started = Date.now();
    expect(JSON.parse((await client.getApplications()).body).applications.apps__hashcode).toBe('B');
    expect(Date.now() - started).toBeLessThan(2000);
    client.close();
  });

  it('reports every attempt, without credentials, when no server answers', async () => {
    const client = new EurekaRestClient({ serviceUrls: ['http://user:s3cret@127.0.0.1:9/eureka', DEAD] });
    const err = await client.getApplications().catch((e: unknown) => e);
    expect(err).toBeInstanceOf(EurekaUnavailableError);
    expect((err as EurekaUnavailableError).attempts).toHaveLength(2);
    expect((err as Error).message).not.toContain('s3cret');
    client.close();
  });

  it('sends basic auth from the options or from the URL', async () => {
    const c1 = new EurekaRestClient({ serviceUrls: [urlA], username: 'eu', password: 'pw' });
    await c1.getApplications();
    const c2 = new EurekaRestClient({ serviceUrls: [urlA.replace('http://', 'http://u2:p%402@')] });
    await c2.getApplications();
    expect(a.requests.map((r) => r.auth)).toEqual([`Basic ${Buffer.from('eu:pw').toString('base64')}`, `Basic ${Buffer.from('u2:p@2').toString('base64')}`]);
    expect(c2.activeServer).not.toContain('p%402');
    c1.close();
    c2.close();
  });

  it('inflates gzip bodies and asks for JSON', async () => {
    let accept: string | undefined;
    a.handler = (req, res) => {
      accept = req.headers.accept;
      res.writeHead(200, { 'content-encoding': 'gzip' }).end(gzipSync(JSON.stringify({ applications: { apps__hashcode: 'Z' } })));
    };
    const client = new EurekaRestClient({ serviceUrls: [urlA] });
    expect(JSON.parse((await client.getApplications()).body).applications.apps__hashcode).toBe('Z');
    expect(accept).toBe('application/json');
    client.close();
  });

  it('refuses a body larger than the limit', async () => {
    a.handler = (_req, res) => res.writeHead(200).end('x'.repeat(10_000));
    const client = new EurekaRestClient({ serviceUrls: [urlA], maxBodyBytes: 1000 });
    await expect(client.getApplications()).rejects.toThrow(/larger than 1000 bytes/);
    client.close();
  });

  it('returns a body the server cut off only when partial bodies are allowed', async () => {
    a.handler = (req, res) => {
      res.writeHead(200, { 'content-type': 'text/html' });
      res.write('<h1>System Status</h1>');
      setTimeout(() => req.socket.destroy(), 20);
    };
    const client = new EurekaRestClient({ serviceUrls: [urlA] });
    const partial = await client.getFromOrigin('/', { Accept: 'text/html' }, true);
    expect(partial).toMatchObject({ status: 200, body: '<h1>System Status</h1>', truncated: true });
    await expect(client.getFromOrigin('/', { Accept: 'text/html' })).rejects.toThrow();
    client.close();
  });

  it('redacts URLs', () => {
    expect(redactUrl('https://a:b@eureka.example.com/eureka/')).toBe('https://eureka.example.com/eureka');
    expect(redactUrl('::')).toBe('(invalid url)');
  });
});
