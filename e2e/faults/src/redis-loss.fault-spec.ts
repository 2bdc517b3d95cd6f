// Fault: Redis (the only channel between collectors and writer) is SIGKILLed while changes flow,
// and restarted empty (no persistence) or with its data (fsync'd AOF). Expected: the collectors
// re-send, the writer resumes, the final state is exactly the registry's, nothing is deleted and
// no older state is written after a newer one.
import { sleep, until } from './support/apps';
import { consulCollectorConfig, converged, seedConsul } from './support/consul-pipeline';
import { kubePath, PrivateConsul, PrivateRedis } from '@registry-bridge/test-peers';
import { dumpOnFailure, Scenario } from './support/scenario';

describe('Redis killed and restarted while changes flow', () => {
  let sc: Scenario;
  let consul: PrivateConsul | undefined;
  let redis: PrivateRedis | undefined;
  dumpOnFailure(() => sc);
  afterEach(async () => {
    await sc?.tearDown();
    await consul?.kill();
    await redis?.kill();
  });

  for (const persistent of [false, true]) {
    it(`${persistent ? 'with its data (AOF)' : 'empty (data loss)'}: the final state is exact, nothing deleted, no stale write`, async () => {
      sc = await new Scenario(persistent ? 'redis-aof' : 'redis-loss').setUp([], ['writer', 'collector-consul']);
      consul = await new PrivateConsul().start();
      redis = await new PrivateRedis({ persistent }).start();
      const source = `consul-redis-${sc.id}`;
      const names = await seedConsul(consul, `rl${sc.id}`, 6, 2, 63);
      const redisCfg = { url: redis.url, prefix: sc.prefix };
      await sc.app('writer', { ...sc.writerConfig({ [source]: { kind: 'consul' } }), redis: redisCfg });
      const collector = await sc.app('collector-consul', consulCollectorConfig(sc, { source, address: consul.addr, redis: redisCfg }));
      await converged(sc, names, 2);

      // churn: the second instance of one service after another moves to a new address
      const expected = new Map(names.map((n, i) => [n, [`10.63.${i}.1`, `10.63.${i}.2`]]));
      let step = 0;
      let churning = true;
      const churn = (async () => {
        while (churning) {
          const i = step % 3; // the last three services never change: nothing would re-send them
          const addr = `10.63.${i}.${10 + step}`;
          await consul?.register({ Name: names[i], ID: `${names[i]}-2`, Address: addr, Port: 8080, Meta: { protocol: 'http' }, Check: { TTL: '3600s', Status: 'passing' } });
          expected.set(names[i], [`10.63.${i}.1`, addr].sort());
          step++;
          await sleep(400);
        }
      })();
      const t0 = Date.now();
      await sleep(3000);
      await redis.kill('SIGKILL');
      const tKill = Date.now();
      await sleep(6000); // changes keep coming while Redis is gone
      churning = false;
      await churn;
      await redis.start();
      const tBack = Date.now();
      const want = (svc: string) => expected.get(svc) as string[];
      await until(
        'final state equals the registry',
        async () => {
          const ses = await sc.ses();
          return names.every((n) => JSON.stringify(ses.find((o) => o.metadata.annotations?.['registry-bridge.io/service'] === n)?.spec.endpoints?.map((e) => e.address).sort()) === JSON.stringify(want(n)));
        },
        60000,
        500,
      );
      const tConverged = Date.now();
      expect(sc.recorder.since(t0, { type: 'DELETED' })).toEqual([]);
      // no stale write: once a service's final address was written, no other version follows it
      for (const n of names) {
        const writes = sc.recorder.since(t0, { kind: 'ServiceEntry' }).filter((e) => e.service === n);
        const firstFinal = writes.findIndex((e) => JSON.stringify(e.endpoints) === JSON.stringify(want(n)));
        if (firstFinal >= 0) expect(writes.slice(firstFinal).map((e) => e.endpoints)).toEqual(writes.slice(firstFinal).map(() => want(n)));
      }
      await sleep(6000);
      // and it stays so (no late stale message overwrites it)
      await converged(sc, names, 2, 1000);
      // the writer still knows every service after the loss: a ServiceEntry of a service that did
      // not change since before the fault, deleted by hand, is repaired (the writer needs its record)
      const quiet = names[5];
      const se = await sc.seOf(quiet);
      await sc.kube.must('DELETE', kubePath('ServiceEntry', sc.ns, se?.metadata.name));
      await until(`hand-deleted ServiceEntry of ${quiet} repaired`, async () => (await sc.seOf(quiet))?.spec.endpoints?.length === 2, 30000, 500);
      expect((await collector.get('/health/ready')).status).toBe(200);
      process.stdout.write(
        `[observed] redis ${persistent ? 'aof' : 'loss'}: ${step} changes, Redis down ${Math.round((tBack - tKill) / 1000)} s, converged ${Math.round((tConverged - tBack) / 1000)} s after restart, writes ${sc.recorder.since(t0).length}, deletes 0\n`,
      );
    });
  }
});
