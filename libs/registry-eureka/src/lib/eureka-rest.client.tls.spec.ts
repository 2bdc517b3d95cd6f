import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:https';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TLSSocket } from 'node:tls';
import { EurekaRestClient } from './eureka-rest.client';

// A throwaway CA, a server certificate for 127.0.0.1 and a client certificate, made with openssl.
const dir = mkdtempSync(join(tmpdir(), 'eureka-tls-'));
const ssl = (...args: string[]) => execFileSync('openssl', args, { cwd: dir, stdio: 'pipe' });
ssl('req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-days', '1', '-subj', '/CN=test-ca', '-keyout', 'ca.key', '-out', 'ca.pem');
for (const [name, ext] of [
  ['server', 'subjectAltName=IP:127.0.0.1'],
  ['client', 'extendedKeyUsage=clientAuth'],
]) {
  writeFileSync(join(dir, `${name}.ext`), `${ext}\n`);
  ssl('req', '-newkey', 'rsa:2048', '-nodes', '-subj', `/CN=${name}`, '-keyout', `${name}.key`, '-out', `${name}.csr`);
  ssl('x509', '-req', '-in', `${name}.csr`, '-CA', 'ca.pem', '-CAkey', 'ca.key', '-CAcreateserial', '-days', '1', '-extfile', `${name}.ext`, '-out', `${name}.pem`);
}
const pem = (f: string) => readFileSync(join(dir, f), 'utf8');

describe('EurekaRestClient over TLS', () => {
  let server: Server;
  let url: string;
  let lastClientCert: string | undefined;

  beforeAll(async () => {
    server = createServer({ key: pem('server.key'), cert: pem('server.pem'), ca: pem('ca.pem'), requestCert: true, rejectUnauthorized: false }, (req, res) => {
      const peer = (req.socket as TLSSocket).getPeerCertificate();
      lastClientCert = peer && peer.subject ? String(peer.subject.CN) : undefined;
      res.writeHead(200, { 'content-type': 'application/json' }).end('{"applications":{"apps__hashcode":""}}');
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    url = `https://127.0.0.1:${(server.address() as AddressInfo).port}/eureka`;
  });
  afterAll(() => new Promise<void>((r) => server.close(() => r())));

  it('trusts a server signed by the configured CA and presents a client certificate', async () => {
    const client = new EurekaRestClient({ serviceUrls: [url], tls: { ca: pem('ca.pem'), cert: pem('client.pem'), key: pem('client.key'), rejectUnauthorized: true } });
    expect((await client.getApplications()).status).toBe(200);
    expect(lastClientCert).toBe('client');
    client.close();
  });

  it('refuses a server it cannot verify', async () => {
    const client = new EurekaRestClient({ serviceUrls: [url] });
    await expect(client.getApplications()).rejects.toThrow(/certificate/);
    client.close();
  });

  it('skips verification only when told to', async () => {
    const client = new EurekaRestClient({ serviceUrls: [url], tls: { rejectUnauthorized: false } });
    expect((await client.getApplications()).status).toBe(200);
    client.close();
  });
});
