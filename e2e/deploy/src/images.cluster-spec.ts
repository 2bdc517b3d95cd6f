// Issue 18, item 1: the four app images that scripts/images.sh builds without a Docker engine.
// Their config and size are read from buildah's storage; each one is run once with runc on a
// read-only root against the real peers and must answer /health/live.
import { createServer } from 'node:net';
import { chmodSync, copyFileSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { stringify } from 'yaml';
import { loadPeersEnv, PeersEnv } from '@registry-bridge/test-peers';
import { APPS, AppName, imageConfig, imageRef, imageSizes, RuncContainer, sbomOf } from './support/images';

// Builds, pulls and rollouts take minutes on a loaded 2-core machine (set here: the Nx executor
// ignores testTimeout in the project config).
jest.setTimeout(300_000);

const MB = 1024 * 1024;
const freePort = () =>
  new Promise<number>((done) => {
    const s = createServer().listen(0, '127.0.0.1', () => {
      const { port } = s.address() as { port: number };
      s.close(() => done(port));
    });
  });

/** A config that starts the app against the real peers; nothing it does is asserted beyond liveness. */
function appConfig(app: AppName, peers: PeersEnv, port: number, dir: string): { config: Record<string, unknown>; env: Record<string, string> } {
  const base = { http: { port, host: '127.0.0.1' }, redis: { url: peers.redisUrl, prefix: `{rb-img-${process.pid}}` } };
  switch (app) {
    case 'writer':
      // The test writer identity (no RBAC granted: it never leads or writes), readable by uid 10001.
      copyFileSync(peers.kube.writerKubeconfig, join(dir, 'kubeconfig'));
      chmodSync(join(dir, 'kubeconfig'), 0o644);
      return {
        config: {
          ...base,
          installation: 'image-test',
          kubernetes: { kubeconfig: join(dir, 'kubeconfig') },
          defaults: { namespace: 'rb-image-test' },
          leaderElection: { namespace: 'rb-image-test' },
          sources: { 'consul-img': { kind: 'consul' } },
        },
        env: {},
      };
    case 'collector-consul':
      return { config: { ...base, sources: [{ name: 'consul-img', address: peers.consul.addr }] }, env: {} };
    case 'collector-eureka':
      return { config: { ...base, sources: [{ name: 'eureka-img', serviceUrls: [peers.eureka.url] }] }, env: {} };
    case 'collector-cloudmap':
      return {
        config: { ...base, sources: [{ name: 'cloudmap-img', region: peers.cloudMap.region, endpoint: peers.cloudMap.endpoint }] },
        env: { AWS_ACCESS_KEY_ID: peers.cloudMap.accessKeyId, AWS_SECRET_ACCESS_KEY: peers.cloudMap.secretAccessKey },
      };
  }
}

describe.each(APPS)('image %s', (app) => {
  const ref = imageRef(app);

  it('runs as uid 10001 under tini, the built app as its command, labelled with source, version and revision', () => {
    const { config } = imageConfig(ref);
    expect(config.User).toBe('10001:10001');
    expect(config.Entrypoint).toEqual(['/usr/bin/tini', '-g', '--']);
    expect(config.Cmd).toEqual(['node', '/app/main.js']);
    expect(config.Env).toContain('NODE_ENV=production');
    const labels = config.Labels ?? {};
    expect(labels['org.opencontainers.image.version']).toBe(ref.split(':').pop());
    expect(labels['org.opencontainers.image.revision']).toMatch(/^[0-9a-f]{40}$/);
    expect(labels['org.opencontainers.image.source']).toMatch(/^https:\/\//);
  });

  it('is under 150 MB as a registry serves it (gzip layers)', () => {
    const sizes = imageSizes(ref);
    process.stdout.write(`${app}: ${(sizes.compressed / MB).toFixed(1)} MB compressed, ${(sizes.uncompressed / MB).toFixed(1)} MB on disk\n`);
    expect(sizes.compressed).toBeGreaterThan(20 * MB);
    expect(sizes.compressed).toBeLessThan(150 * MB);
  });

  it('ships a CycloneDX SBOM of its production dependencies', () => {
    const sbom = sbomOf(app);
    expect(sbom.bomFormat).toBe('CycloneDX');
    const names = sbom.components.map((c) => c.name);
    expect(names).toEqual(expect.arrayContaining(['bullmq', 'ioredis', 'zod']));
    if (app === 'writer') expect(names).toContain('@kubernetes/client-node');
    // Dev tooling is not in a runtime image.
    expect(names.filter((n) => /^(jest|ts-jest|typescript|nx|eslint|webpack)$/.test(n))).toEqual([]);
  });

  describe('run with runc on a read-only root', () => {
    let peers: PeersEnv;
    let ctr: RuncContainer;
    let port: number;

    beforeAll(async () => {
      peers = await loadPeersEnv({ peers: ['redis', 'kube', 'consul', 'eureka', 'cloudMap'] });
      port = await freePort();
      // The config directory is bound read-only into the container, as the chart's ConfigMap is.
      const dir = mkdtempSync(join(tmpdir(), 'rb-img-config-'));
      chmodSync(dir, 0o755);
      const { config, env } = appConfig(app, peers, port, dir);
      writeFileSync(join(dir, 'config.yaml'), stringify(config), { mode: 0o644 });
      ctr = new RuncContainer(ref, { env: { RB_CONFIG_FILE: join(dir, 'config.yaml'), ...env }, binds: [dir] }).start();
    });

    afterAll(async () => {
      await ctr?.stop();
    });

    it('answers /health/live', async () => {
      let status = 0;
      // Polls until the app listens or its process ends; jest's timeout bounds it.
      while (ctr.running() && status !== 200) {
        status = await fetch(`http://127.0.0.1:${port}/health/live`).then(
          (r) => r.status,
          () => 0,
        );
        if (status !== 200) await new Promise((r) => setTimeout(r, 250));
      }
      expect([status, ctr.running() ? 'running' : ctr.logs.join('').slice(-2000)]).toEqual([200, 'running']);
    });

    it('cannot write to its root filesystem, only to /tmp', () => {
      const write = (path: string) => ctr.exec(['/usr/local/bin/node', '-e', `require('fs').writeFileSync(${JSON.stringify(path)}, 'x')`]);
      const root = write('/app/written-at-run-time');
      expect(root.status).not.toBe(0);
      expect(root.output).toMatch(/EROFS|read-only file system/);
      expect(write('/tmp/scratch').status).toBe(0);
    });

    it('runs as uid 10001 and stops on SIGTERM through tini', async () => {
      expect(ctr.exec(['/usr/local/bin/node', '-p', 'process.getuid() + ":" + process.getgid()']).output.trim()).toBe('10001:10001');
      const code = await ctr.stop();
      // tini passed SIGTERM on; NestJS ran its shutdown hooks and then re-raises the signal, so the
      // exit is 128 + 15. A process that ignored it would have been killed after 15 s: 137.
      expect(code).toBe(143);
    });
  });
});
