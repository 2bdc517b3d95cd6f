// Fault: one of three collector replicas is SIGKILLed while the others run. Expected: its services
// move to the survivors (membership TTL 6 s), a change made right after the kill to every service
// arrives within the takeover time (TTL + one heartbeat + a read), and nothing is deleted.
import { App, sleep, until } from './support/apps';
import { consulCollectorConfig, converged, seedConsul } from './support/consul-pipeline';
import { PrivateConsul } from '@registry-bridge/test-peers';
import { dumpOnFailure, Scenario } from './support/scenario';

const TTL_S = 6;
const HEARTBEAT_S = 2; // a third of the TTL
const TAKEOVER_BOUND_S = TTL_S + HEARTBEAT_S + 6; // + one read and the writer's apply, on a loaded machine

describe('a collector replica killed while others run', () => {
  let sc: Scenario;
  let consul: PrivateConsul;
  dumpOnFailure(() => sc);
  afterAll(async () => {
    await sc?.tearDown();
    await consul?.kill();
  });

  it('three replicas share 12 services; one is SIGKILLed: its services move, changes arrive within the takeover time, nothing is deleted', async () => {
    sc = await new Scenario('replica').setUp([], ['writer', 'collector-consul']);
    consul = await new PrivateConsul().start();
    const source = `consul-rep-${sc.id}`;
    const names = await seedConsul(consul, `rep${sc.id}`, 12, 1, 68);
    await sc.app('writer', sc.writerConfig({ [source]: { kind: 'consul' } }));
    const cfg = consulCollectorConfig(sc, { source, address: consul.addr, memberTtlSeconds: TTL_S });
    const replicas: App[] = [];
    for (let i = 0; i < 3; i++) replicas.push(await sc.app('collector-consul', cfg));
    await converged(sc, names, 1);
    const owned = async (r: App) => r.metric('registry_bridge_collector_owned_services', { source });
    // each sees three members and the owned counts add up (a gauge refreshed at each catalog answer)
    await until('the three replicas split the 12 services', async () => {
      const members = await Promise.all(replicas.map((r) => r.metric('registry_bridge_collector_members')));
      const o = await Promise.all(replicas.map(owned));
      return members.every((m) => m === 3) && o.filter((n) => n > 0).length >= 2 && o.reduce((a, b) => a + b, 0) === 12 ? o : undefined;
    }, 60000, 500);
    const split = await Promise.all(replicas.map(owned));

    const victim = replicas[0];
    const t0 = Date.now();
    await victim.stop('SIGKILL');
    // every service changes at once: a third of them belong to the dead replica
    for (const [i, n] of names.entries()) await consul.register({ Name: n, ID: `${n}-2`, Address: `10.68.${i}.2`, Port: 8080, Check: { TTL: '3600s', Status: 'passing' } });
    await converged(sc, names, 2, TAKEOVER_BOUND_S * 1000);
    const gap = (Date.now() - t0) / 1000;
    // the owned-services gauge follows at the next catalog answer (a blocking wait of 5 s)
    const survivors = await until('survivors own all 12', async () => {
      const o = await Promise.all(replicas.slice(1).map(owned));
      return o.reduce((a, b) => a + b, 0) === 12 ? o : undefined;
    }, 15000, 500);
    expect(sc.recorder.since(t0, { type: 'DELETED' })).toEqual([]);
    await sleep(3000);
    expect(sc.recorder.since(t0, { type: 'DELETED' })).toEqual([]);
    process.stdout.write(`[observed] collector replica kill: split ${split.join('/')} -> ${survivors.join('/')}; every change applied ${gap.toFixed(1)} s after the SIGKILL (bound ${TAKEOVER_BOUND_S} s, TTL ${TTL_S} s)\n`);
  });
});
