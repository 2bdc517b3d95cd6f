import { execFileSync } from 'node:child_process';
import { eurekaInstance } from './eureka-instance';
import { freePort } from './free-port';
import { PEER_SCRIPTS_DIR, ScriptPeer } from './script-peer';

// What the TypeScript side relies on, without starting a peer: the scripts' paths, their errors,
// and the pieces the private peers and the e2e suites share.
describe('ScriptPeer', () => {
  it('finds every per-peer script of scripts/peers, each with the commands of lib.sh', () => {
    for (const script of ['redis', 'kube', 'consul', 'eureka', 'moto']) {
      expect(() => execFileSync('bash', [`${PEER_SCRIPTS_DIR}/${script}.sh`, 'usage'], { stdio: 'pipe' })).toThrow(/up\|down\|status\|env\|install\|start\|wait\|kill/);
    }
  });

  it('names the script, the command and the instance directory when a command fails', async () => {
    const peer = new ScriptPeer('redis', () => ({ RB_REDIS_PORT: '1' }));
    await expect(peer.run('kill')).resolves.toBe(''); // nothing running: nothing to do
    expect(() => peer.pid()).toThrow(`scripts/peers/redis.sh pid (in ${peer.dir}) failed: [peers] ERROR: redis is not running`);
    expect(() => peer.freeze()).toThrow('redis is not running');
    expect(() => peer.thaw()).not.toThrow();
  });

  it('prints the env lines of a private instance from its own variables', () => {
    const peer = new ScriptPeer('moto', () => ({ RB_MOTO_PORT: '26999' }));
    expect(peer.runSync('env')).toContain('RB_CLOUDMAP_ENDPOINT=http://127.0.0.1:26999\n');
  });
});

describe('freePort', () => {
  it('gives a loopback port below the ephemeral range that nobody listens on', async () => {
    const port = await freePort();
    expect(port).toBeGreaterThanOrEqual(26_000);
    expect(port).toBeLessThan(32_768);
  });
});

describe('eurekaInstance', () => {
  it('is one UP instance on 8080 with a 10-minute lease, any field overridable', () => {
    const { instance } = eurekaInstance('ORDERS', 'orders-1', '10.0.0.1', { status: 'DOWN', metadata: { protocol: 'grpc' } });
    expect(instance).toMatchObject({ app: 'ORDERS', instanceId: 'orders-1', ipAddr: '10.0.0.1', hostName: 'orders-1.test.local', vipAddress: 'orders', port: { $: 8080 }, leaseInfo: { durationInSecs: 600 } });
    expect(instance.status).toBe('DOWN');
    expect(instance.metadata).toEqual({ protocol: 'grpc' });
  });
});
