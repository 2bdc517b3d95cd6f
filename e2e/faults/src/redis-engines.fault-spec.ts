// Scale-out engines: the writer and a collector against Redis Sentinel (with a failover while
// changes flow), a 3-master Redis Cluster (BullMQ prefix with a hash tag), and TLS Redis with a
// password and client certificates (local CA). Needs the opt-in peers:
//   bash scripts/peers.sh up redis-cluster redis-sentinel redis-tls
import { loadPeersEnv, loadRedisExtras, PrivateConsul, RedisExtrasEnv } from '@registry-bridge/test-peers';
import { execFileSync } from 'node:child_process';
import { sleep, until } from './support/apps';
import { consulCollectorConfig, converged, ready, seedConsul } from './support/consul-pipeline';
import { dumpOnFailure, Scenario } from './support/scenario';

describe('the apps on Redis Sentinel, Redis Cluster and TLS Redis', () => {
  let sc: Scenario;
  let consul: PrivateConsul;
  let extras: RedisExtrasEnv;
  dumpOnFailure(() => sc);
  beforeAll(async () => {
    // fails, naming the command, when the opt-in peers are not running
    extras = await loadRedisExtras(await loadPeersEnv({ peers: ['redis', 'kube'] }), ['redis-cluster', 'redis-sentinel', 'redis-tls']);
    consul = await new PrivateConsul().start();
  });
  afterEach(async () => sc?.tearDown());
  afterAll(async () => consul?.kill());

  const run = async (tag: string, redis: (sc: Scenario) => Record<string, unknown>, env: NodeJS.ProcessEnv, during?: () => Promise<void>) => {
    sc = await new Scenario(tag).setUp([], ['writer', 'collector-consul']);
    const source = `consul-${tag}-${sc.id}`.slice(0, 63);
    const prefix = `${tag}${sc.id}`;
    const names = await seedConsul(consul, prefix, 4, 1, 69);
    const r = redis(sc);
    await sc.app('writer', { ...sc.writerConfig({ [source]: { kind: 'consul' } }), redis: r }, env);
    const collector = await sc.app('collector-consul', consulCollectorConfig(sc, { source, address: consul.addr, allow: [`${prefix}-*`], redis: r }), env);
    await converged(sc, names, 1);
    const t0 = Date.now();
    // changes flow (and, for Sentinel, the master moves meanwhile)
    const churn = (async () => {
      for (const [i, n] of names.entries()) {
        await consul.register({ Name: n, ID: `${n}-2`, Address: `10.69.${i}.2`, Port: 8080, Check: { TTL: '3600s', Status: 'passing' } });
        await sleep(500);
      }
    })();
    await during?.();
    await churn;
    // and one change after it (for Sentinel: written through the new master)
    await consul.deregister(`${names[0]}-2`);
    await converged(sc, names, (n) => (n === names[0] ? 1 : 2), 60000);
    expect(sc.recorder.since(t0, { type: 'DELETED' })).toEqual([]);
    expect(await ready(collector)).toBe(200);
    expect((await sc.apps[0].get('/health/ready')).status).toBeLessThan(600);
    for (const n of names) await consul.deregister(`${n}-1`).then(() => consul.deregister(`${n}-2`));
    return (Date.now() - t0) / 1000;
  };

  it('Redis Sentinel, with a forced failover while changes flow', async () => {
    let master = '';
    const took = await run(
      'sentinel',
      (s) => ({ mode: 'sentinel', sentinels: extras.sentinel?.sentinels, name: extras.sentinel?.masterName, prefix: s.prefix }),
      {},
      async () => {
        const s0 = extras.sentinel?.sentinels[0];
        const before = execFileSync('redis-cli', ['-p', String(s0?.port), 'sentinel', 'get-master-addr-by-name', String(extras.sentinel?.masterName)]).toString().split('\n')[1];
        // a real failover: the replica is promoted, the old master demoted, clients must follow
        execFileSync('redis-cli', ['-p', String(s0?.port), 'sentinel', 'failover', String(extras.sentinel?.masterName)]);
        master = await until('the master moved', async () => {
          const now = execFileSync('redis-cli', ['-p', String(s0?.port), 'sentinel', 'get-master-addr-by-name', String(extras.sentinel?.masterName)]).toString().split('\n')[1];
          return now !== before ? `${before} -> ${now}` : undefined;
        }, 30000, 500);
      },
    );
    process.stdout.write(`[observed] sentinel: failover ${master} during changes; converged ${took.toFixed(1)} s after the first change\n`);
  });

  it('Redis Cluster (3 masters, prefix with a hash tag)', async () => {
    const took = await run('cluster', (s) => ({ mode: 'cluster', nodes: extras.cluster?.nodes, prefix: s.prefix }), {});
    const slot = execFileSync('redis-cli', ['-p', String(extras.cluster?.nodes[0].port), 'cluster', 'keyslot', sc.prefix]).toString().trim();
    process.stdout.write(`[observed] cluster: converged ${took.toFixed(1)} s; every key of the run in slot ${slot}\n`);
  });

  it('TLS Redis with a password and a client certificate', async () => {
    const took = await run(
      'tls',
      (s) => ({
        url: extras.tls?.url,
        prefix: s.prefix,
        password: { env: 'RB_TEST_REDIS_PASSWORD' },
        tls: { enabled: true, caFile: extras.tls?.caFile, certFile: extras.tls?.certFile, keyFile: extras.tls?.keyFile },
      }),
      { RB_TEST_REDIS_PASSWORD: extras.tls?.password },
    );
    process.stdout.write(`[observed] tls: converged ${took.toFixed(1)} s\n`);
  });
});
