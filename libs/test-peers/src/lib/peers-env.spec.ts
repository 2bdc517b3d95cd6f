import { mkdtempSync, writeFileSync } from 'node:fs';
import { createServer, Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { eurekaTlsFrom, loadEurekaTls, loadPeersEnv, parseEnvFile, peersEnvPath, PeersEnv, PeersUnavailableError, readPeersEnv } from './peers-env';

const FULL = `# comment
RB_REDIS_URL=redis://127.0.0.1:16379
RB_KUBECONFIG_ADMIN=/x/admin.kubeconfig
RB_KUBECONFIG_WRITER=/x/writer.kubeconfig
RB_KUBE_SERVER=https://127.0.0.1:16443
RB_CONSUL_ADDR=http://127.0.0.1:18500
RB_CONSUL_ACL_ADDR=http://127.0.0.1:18501
RB_CONSUL_ACL_TOKEN=0b0f0a0e-1111-2222-3333-444455556666
RB_EUREKA_URL=http://127.0.0.1:18761/eureka
RB_EUREKA_CACHED_URL=http://127.0.0.1:18762/eureka
RB_CLOUDMAP_ENDPOINT=http://127.0.0.1:15000
RB_AWS_REGION=us-east-1
RB_AWS_ACCESS_KEY_ID=testing
RB_AWS_SECRET_ACCESS_KEY=testing
RB_ETCD_URL=http://127.0.0.1:12379
`;

function writeEnv(text: string): string {
  const dir = mkdtempSync(join(tmpdir(), 'rb-peers-'));
  const file = join(dir, 'peers.env');
  writeFileSync(file, text);
  return file;
}

describe('peers env', () => {
  it('resolves the default path from RB_PEERS_ENV, RB_CACHE_DIR or HOME', () => {
    expect(peersEnvPath({ RB_PEERS_ENV: '/a/b.env' })).toBe('/a/b.env');
    expect(peersEnvPath({ RB_CACHE_DIR: '/c' })).toBe('/c/peers.env');
    expect(peersEnvPath({ HOME: '/home/u' })).toBe('/home/u/.cache/registry-bridge/peers.env');
  });

  it('parses KEY=value lines, ignoring comments and quotes', () => {
    expect(parseEnvFile('# x\nA=1\n\nexport B="two"\nC=a=b\n')).toEqual({ A: '1', B: 'two', C: 'a=b' });
  });

  it('reads a complete env file into a typed object', () => {
    const env = readPeersEnv(writeEnv(FULL));
    expect(env.redisUrl).toBe('redis://127.0.0.1:16379');
    expect(env.kube.writerUser).toBe('registry-bridge-writer');
    expect(env.consul.aclToken).toBe('0b0f0a0e-1111-2222-3333-444455556666');
    expect(env.eureka.cachedUrl).toBe('http://127.0.0.1:18762/eureka');
    expect(env.cloudMap).toEqual({ endpoint: 'http://127.0.0.1:15000', region: 'us-east-1', accessKeyId: 'testing', secretAccessKey: 'testing' });
  });

  it('throws, naming the up command, when the file is missing', async () => {
    await expect(loadPeersEnv({ path: '/nonexistent/peers.env' })).rejects.toThrow(PeersUnavailableError);
    await expect(loadPeersEnv({ path: '/nonexistent/peers.env' })).rejects.toThrow('run `bash scripts/peers.sh up`');
  });

  it('throws when a key is missing', () => {
    expect(() => readPeersEnv(writeEnv(FULL.replace(/^RB_CONSUL_ACL_TOKEN=.*$/m, '')))).toThrow(/lacks RB_CONSUL_ACL_TOKEN/);
  });

  describe('with a listening and a closed port', () => {
    let server: Server;
    let openPort: number;
    let closedPort: number;
    beforeAll(async () => {
      const probe = createServer();
      await new Promise<void>((r) => probe.listen(0, '127.0.0.1', r));
      closedPort = (probe.address() as { port: number }).port;
      await new Promise<void>((r) => probe.close(() => r()));
      server = createServer((s) => s.destroy());
      await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
      openPort = (server.address() as { port: number }).port;
    });
    afterAll(() => new Promise<void>((r) => server.close(() => r())));

    it('passes when the peer answers', async () => {
      const file = writeEnv(FULL.replace('16379', String(openPort)));
      await expect(loadPeersEnv({ path: file, peers: ['redis'] })).resolves.toMatchObject({ redisUrl: `redis://127.0.0.1:${openPort}` });
    });

    it('loads eureka-tls when it answers, and names its command when it does not', async () => {
      const tls = (port: number) => ({
        RB_EUREKA_TLS_URL: `https://127.0.0.1:${port}/eureka`,
        RB_EUREKA_TLS_CA_FILE: '/r/ca.crt',
        RB_EUREKA_TLS_CERT_FILE: '/r/client.crt',
        RB_EUREKA_TLS_KEY_FILE: '/r/client.key',
      });
      const env = (raw: Record<string, string>) => ({ envFile: '/tmp/peers.env', raw }) as unknown as PeersEnv;
      await expect(loadEurekaTls(env(tls(openPort)))).resolves.toEqual({ url: `https://127.0.0.1:${openPort}/eureka`, caFile: '/r/ca.crt', certFile: '/r/client.crt', keyFile: '/r/client.key' });
      await expect(loadEurekaTls(env(tls(closedPort)), 200)).rejects.toThrow(`not answering at 127.0.0.1:${closedPort}: run \`bash scripts/peers.sh up eureka-tls\``);
      await expect(loadEurekaTls(env({ RB_EUREKA_TLS_URL: 'https://127.0.0.1:1/eureka' }))).rejects.toThrow('lacks the opt-in peer(s) eureka-tls: run `bash scripts/peers.sh up eureka-tls`');
      expect(eurekaTlsFrom({})).toBeUndefined();
    });

    it('throws when a peer does not answer', async () => {
      const file = writeEnv(FULL.replace('18500', String(closedPort)));
      await expect(loadPeersEnv({ path: file, peers: ['consul'] })).rejects.toThrow(
        new RegExp(`consul at 127.0.0.1:${closedPort}[\\s\\S]*run \`bash scripts/peers.sh up\``),
      );
    });
  });
});
