import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer as createHttpServer, IncomingMessage, Server, ServerResponse } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ConsulHttpClient, ConsulHttpOptions } from './consul-http.client';

type Handler = (req: IncomingMessage, res: ServerResponse) => void;

async function listen(server: Server): Promise<number> {
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return (server.address() as AddressInfo).port;
}

const options = (address: string, over: Partial<ConsulHttpOptions> = {}): ConsulHttpOptions => ({
  address,
  consistency: 'stale',
  maxSockets: 4,
  requestTimeoutMs: 2000,
  ...over,
});

describe('ConsulHttpClient', () => {
  let handler: Handler;
  let server: Server;
  let base: string;
  const seen: IncomingMessage[] = [];

  beforeAll(async () => {
    server = createHttpServer((req, res) => {
      seen.push(req);
      handler(req, res);
    });
    base = `http://127.0.0.1:${await listen(server)}`;
  });
  afterAll(() => new Promise((r) => server.close(r)));
  beforeEach(() => (seen.length = 0));

  it('sends index, wait, consistency, dc, ns, filter and the token header; reads the Consul headers', async () => {
    handler = (_req, res) => {
      res.writeHead(200, { 'content-type': 'application/json', 'x-consul-index': '42', 'x-consul-results-filtered-by-acls': 'true', 'x-consul-default-acl-policy': 'deny' });
      res.end('{"web":[]}');
    };
    const c = new ConsulHttpClient(options(base, { token: () => 't0ken', datacenter: 'dc2', namespace: 'team-a' }));
    const r = await c.get<Record<string, string[]>>('/v1/catalog/services', { index: 7, waitMs: 30000, query: { filter: 'ServiceKind == ""' } });
    expect(r).toEqual({ body: { web: [] }, index: 42, filteredByAcl: true, knownLeader: true, defaultAclPolicy: 'deny' });
    const url = new URL(seen[0].url ?? '', base);
    expect(Object.fromEntries(url.searchParams)).toEqual({ dc: 'dc2', ns: 'team-a', filter: 'ServiceKind == ""', stale: '', index: '7', wait: '30s' });
    expect(seen[0].headers['x-consul-token']).toBe('t0ken');
    c.close();
  });

  it('sends no index or wait on a first (non-blocking) read, and no token header without a token', async () => {
    handler = (_req, res) => res.end('[]');
    const c = new ConsulHttpClient(options(base, { consistency: 'default' }));
    const r = await c.get('/v1/health/service/web');
    expect(r.index).toBeUndefined();
    expect(new URL(seen[0].url ?? '', base).search).toBe('');
    expect(seen[0].headers['x-consul-token']).toBeUndefined();
    c.close();
  });

  it.each<[string, Handler, RegExp, string]>([
    ['403 ACL not found', (_q, s) => (s.writeHead(403), s.end('ACL not found')), /refused .*403 ACL not found.*service:read/, 'acl'],
    ['500', (_q, s) => (s.writeHead(500), s.end('rpc error: No cluster leader')), /answered 500: rpc error/, 'http'],
    ['invalid JSON', (_q, s) => s.end('<html>'), /invalid JSON/, 'decode'],
    ['a hang past the timeout', () => undefined, /timed out after 200 ms/, 'timeout'],
  ])('turns %s into a typed error', async (_name, h, message, kind) => {
    handler = h;
    const c = new ConsulHttpClient(options(base, { requestTimeoutMs: 200 }));
    await expect(c.get('/v1/catalog/services')).rejects.toMatchObject({ message: expect.stringMatching(message), kind });
    c.close();
  });

  it('gives a non-blocking read the timeout it asks for (the short read after a failure)', async () => {
    handler = () => undefined;
    const c = new ConsulHttpClient(options(base, { requestTimeoutMs: 60000 }));
    await expect(c.get('/v1/catalog/services', { timeoutMs: 150 })).rejects.toMatchObject({ kind: 'timeout', message: expect.stringMatching(/timed out after 150 ms/) });
    c.close();
  });

  it('aborts a blocking query on request, and names refused connections', async () => {
    handler = () => undefined;
    const c = new ConsulHttpClient(options(base));
    const ctl = new AbortController();
    const p = c.get('/v1/health/service/web', { index: 5, waitMs: 60000, signal: ctl.signal });
    setTimeout(() => ctl.abort(), 50);
    await expect(p).rejects.toMatchObject({ kind: 'aborted' });
    c.close();
    const dead = new ConsulHttpClient(options('http://127.0.0.1:1'));
    await expect(dead.get('/v1/catalog/services')).rejects.toMatchObject({ kind: 'network', message: expect.stringMatching(/ECONNREFUSED/) });
    dead.close();
  });

  it('never holds more sockets than maxSockets', async () => {
    const pending: ServerResponse[] = [];
    handler = (_req, res) => pending.push(res);
    const c = new ConsulHttpClient(options(base, { maxSockets: 2 }));
    const calls = Array.from({ length: 5 }, () => c.get('/v1/health/service/x', { index: 3, waitMs: 60000 }));
    await new Promise((r) => setTimeout(r, 100));
    expect(pending).toHaveLength(2);
    expect(c.openSockets()).toBe(2);
    while (pending.length || seen.length < 5) {
      pending.shift()?.end('[]');
      await new Promise((r) => setTimeout(r, 20));
    }
    await Promise.all(calls);
    c.close();
  });
});

describe('ConsulHttpClient over TLS', () => {
  const dir = mkdtempSync(join(tmpdir(), 'rb-consul-tls-'));
  const f = (n: string) => join(dir, n);
  let server: Server;
  let port: number;

  beforeAll(async () => {
    // A CA, a server cert for "consul.test" and a client cert, as Consul's verify_incoming setup has.
    const ssl = (...args: string[]) => execFileSync('openssl', args, { cwd: dir, stdio: 'ignore' });
    ssl('req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', 'ca.key', '-out', 'ca.pem', '-days', '1', '-subj', '/CN=test-ca');
    for (const [name, cn] of [['server', 'consul.test'], ['client', 'collector']]) {
      ssl('req', '-newkey', 'rsa:2048', '-nodes', '-keyout', `${name}.key`, '-out', `${name}.csr`, '-subj', `/CN=${cn}`);
      writeFileSync(f(`${name}.ext`), `subjectAltName=DNS:${cn}\n`);
      ssl('x509', '-req', '-in', `${name}.csr`, '-CA', 'ca.pem', '-CAkey', 'ca.key', '-CAcreateserial', '-out', `${name}.pem`, '-days', '1', '-extfile', `${name}.ext`);
    }
    server = createHttpsServer(
      { key: readFileSync(f('server.key')), cert: readFileSync(f('server.pem')), ca: readFileSync(f('ca.pem')), requestCert: true, rejectUnauthorized: true },
      (_req, res) => {
        res.setHeader('x-consul-index', '9');
        res.end('{}');
      },
    );
    port = await listen(server);
  });
  afterAll(() => new Promise((r) => server.close(r)));

  const tlsOpts = (over: object = {}) => ({ ca: readFileSync(f('ca.pem')), cert: readFileSync(f('client.pem')), key: readFileSync(f('client.key')), servername: 'consul.test', rejectUnauthorized: true, ...over });

  it('verifies the server against the CA and server name and presents the client certificate', async () => {
    const c = new ConsulHttpClient(options(`https://127.0.0.1:${port}`, { tls: tlsOpts() }));
    await expect(c.get('/v1/catalog/services')).resolves.toMatchObject({ index: 9 });
    c.close();
  });

  it.each<[string, object]>([
    ['a wrong server name', { servername: 'other.test' }],
    ['no CA (system store)', { ca: undefined }],
    ['no client certificate', { cert: undefined, key: undefined }],
  ])('fails with %s', async (_n, over) => {
    const c = new ConsulHttpClient(options(`https://127.0.0.1:${port}`, { tls: tlsOpts(over) }));
    await expect(c.get('/v1/catalog/services')).rejects.toMatchObject({ kind: 'network' });
    c.close();
  });
});
