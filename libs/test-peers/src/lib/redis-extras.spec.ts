import { loadRedisExtras, PeersEnv, redisExtrasFrom } from './peers-env';

const env = (raw: Record<string, string>) => ({ envFile: '/tmp/peers.env', raw }) as unknown as PeersEnv;

describe('opt-in Redis peers in the env file', () => {
  it('parses the cluster, sentinel and TLS keys that are present', () => {
    const x = redisExtrasFrom({
      RB_REDIS_CLUSTER_NODES: '127.0.0.1:17001,127.0.0.1:17002',
      RB_REDIS_SENTINELS: '127.0.0.1:17111',
      RB_REDIS_SENTINEL_MASTER: 'rb-master',
    });
    expect(x.cluster?.nodes).toEqual([
      { host: '127.0.0.1', port: 17001 },
      { host: '127.0.0.1', port: 17002 },
    ]);
    expect(x.sentinel).toEqual({ sentinels: [{ host: '127.0.0.1', port: 17111 }], masterName: 'rb-master' });
    expect(x.tls).toBeUndefined();
  });

  it('names the command that starts a missing extra', async () => {
    await expect(loadRedisExtras(env({}), ['redis-cluster', 'redis-tls'])).rejects.toThrow('bash scripts/peers.sh up redis-cluster redis-tls');
  });

  it('names the command when a node does not answer', async () => {
    await expect(loadRedisExtras(env({ RB_REDIS_CLUSTER_NODES: '127.0.0.1:1' }), ['redis-cluster'], 200)).rejects.toThrow('not answering at 127.0.0.1:1');
  });
});
