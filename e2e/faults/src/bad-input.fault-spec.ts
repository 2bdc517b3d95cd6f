// Bad input through the real registries. Expected for each case: dropped or cleaned at the smallest
// scope (the field, the endpoint, the label, at most the one service) with a counted reason; every
// good instance next to a bad one, and every other service of the source, keeps syncing; no app
// crashes. What Consul itself refuses (it caps service meta at 64 keys of 512-byte values) is said
// so and sent through Cloud Map, which stores what it is given.
import { App, sleep, until } from './support/apps';
import { awsEnv, CloudMap, cloudMapCollectorConfig } from './support/cloudmap';
import { consulCollectorConfig } from './support/consul-pipeline';
import { PrivateConsul } from '@registry-bridge/test-peers';
import { dumpOnFailure, Scenario } from './support/scenario';

const sum = async (app: App, metric: string, labels: Record<string, string>) => app.metric(metric, labels);

describe('bad input through the real registries', () => {
  let sc: Scenario;
  let consul: PrivateConsul | undefined;
  let cm: CloudMap | undefined;
  dumpOnFailure(() => sc);
  afterEach(async () => {
    await sc?.tearDown();
    await consul?.kill();
    cm?.close();
  });

  it('Consul: bad addresses, ports 0 and 70000, odd names, duplicate instance ids, colliding tags', async () => {
    sc = await new Scenario('badc').setUp([], ['writer', 'collector-consul']);
    consul = await new PrivateConsul().start();
    const source = `consul-bad-${sc.id}`;
    const writer = await sc.app('writer', sc.writerConfig({ [source]: { kind: 'consul' } }));
    const collector = await sc.app('collector-consul', consulCollectorConfig(sc, { source, address: consul.addr }));
    const check = { TTL: '3600s', Status: 'passing' };
    const agent = consul;
    const reg = (svc: Record<string, unknown>): Promise<string> =>
      agent.register({ Port: 8080, Check: check, ...svc }).then(
        () => 'accepted',
        (e: Error) => `refused by Consul: ${e.message.slice(-120)}`,
      );
    const consulSays: Record<string, string> = {};
    // one good instance next to each bad one: the good one must arrive, the bad one never
    consulSays['bad addresses'] = await reg({ Name: 'addr', ID: 'addr-ok', Address: '10.71.0.1' });
    for (const [i, a] of ['not an address!', '10.0.0.300', '-bad-.host', 'http://10.0.0.1/'].entries()) consulSays[`address ${a}`] = await reg({ Name: 'addr', ID: `addr-bad-${i}`, Address: a });
    await reg({ Name: 'ports', ID: 'ports-ok', Address: '10.71.1.1' });
    consulSays['port 0'] = await reg({ Name: 'ports', ID: 'ports-0', Address: '10.71.1.2', Port: 0 });
    consulSays['port 70000'] = await reg({ Name: 'ports', ID: 'ports-70000', Address: '10.71.1.3', Port: 70000 });
    const odd = ['dotted.name.v2', 'team/api', 'сервис-ünï', `long-${'x'.repeat(295)}`];
    for (const [i, n] of odd.entries()) consulSays[`name ${n.slice(0, 20)}`] = await reg({ Name: n, ID: `odd-${i}`, Address: `10.71.2.${i + 1}` });
    // the same instance id on two nodes (catalog registration: agents cannot hold two)
    for (const node of ['node-a', 'node-b']) {
      const r = await consul.fetch('/v1/catalog/register', {
        method: 'PUT',
        body: JSON.stringify({ Node: node, Address: node === 'node-a' ? '10.71.3.1' : '10.71.3.2', Service: { Service: 'dup', ID: 'dup-1', Port: 8080 } }),
      });
      consulSays[`duplicate id on ${node}`] = r.ok ? 'accepted' : `refused ${r.status}`;
    }
    consulSays['colliding tags'] = await reg({ Name: 'tags', ID: 'tags-1', Address: '10.71.4.1', Tags: ['Team=Payments', 'team=payments', 'TEAM=ops', 'tier=web', 'bad tag with spaces', '!!!'] });
    consulSays['64+ meta keys'] = await reg({ Name: 'meta', ID: 'meta-1', Address: '10.71.5.1', Meta: Object.fromEntries(Array.from({ length: 100 }, (_, i) => [`k${i}`, 'v'])) });
    await reg({ Name: 'canary', ID: 'canary-1', Address: '10.71.9.1' });

    await until('canary synced', () => sc.seOf('canary'), 60000);
    await until('addr and ports synced with their good instance only', async () => {
      const a = await sc.seOf('addr');
      const p = await sc.seOf('ports');
      return JSON.stringify(a?.spec.endpoints?.map((e) => e.address)) === '["10.71.0.1"]' && JSON.stringify(p?.spec.endpoints?.map((e) => e.address)) === '["10.71.1.1"]';
    }, 30000, 500);
    await sleep(6000); // a snapshot and a resync later
    expect(writer.alive() && collector.alive()).toBe(true);
    const ses = await sc.ses();
    const written = ses.flatMap((o) => (o.spec.endpoints ?? []).map((e) => e.address));
    for (const bad of ['not an address!', '10.0.0.300', '-bad-.host', 'http://10.0.0.1/', '10.71.1.2', '10.71.1.3']) expect(written).not.toContain(bad);
    const names = new Map(ses.map((o) => [o.metadata.annotations?.['registry-bridge.io/service'], o]));
    const outcome: Record<string, string> = {};
    for (const n of [...odd, 'dup', 'tags']) {
      const se = names.get(n);
      outcome[n.slice(0, 24)] = se ? `synced as ${se.metadata.name} host ${se.spec.hosts?.[0]?.slice(0, 40)} endpoints ${se.spec.endpoints?.map((e) => e.address)} labels ${JSON.stringify(se.spec.endpoints?.[0]?.labels ?? {}).slice(0, 120)}` : 'not synced';
    }
    // every object name the writer produced is a valid DNS-1123 label, whatever the registry name
    for (const o of ses) expect(o.metadata.name).toMatch(/^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$/);
    const collectorDrops = await sum(collector, 'registry_bridge_consul_dropped_total', { source });
    const writerDrops = await sum(writer, 'registry_bridge_translation_drops_total', { source });
    const refused = await sum(writer, 'registry_bridge_refused_total', { source });
    expect(collectorDrops + writerDrops + refused).toBeGreaterThan(0);
    const metricsText = (await collector.get('/metrics')).text + (await writer.get('/metrics')).text;
    const reasons = metricsText.split('\n').filter((l) => /registry_bridge_(consul_dropped|translation_drops|refused)_total\{/.test(l) && l.includes(source)).map((l) => l.replace(/source="[^"]+",?/, ''));
    process.stdout.write(`[observed] bad input via Consul:\n  Consul said: ${JSON.stringify(consulSays)}\n  outcome: ${JSON.stringify(outcome, null, 1)}\n  counted: ${reasons.join(' | ')}\n`);
  });

  it('Cloud Map: 10,000 attributes, a 1 MB attribute value, bad addresses and ports next to good instances', async () => {
    sc = await new Scenario('badm').setUp(['cloudMap'], ['writer', 'collector-cloudmap']);
    cm = new CloudMap(sc.peers);
    const source = `cloudmap-bad-${sc.id}`;
    const nsName = `bad-${sc.id}.local`;
    const nsId = await cm.namespace(nsName);
    const big = await cm.service(nsId, 'big');
    const says: Record<string, string> = {};
    const reg = (svc: string, id: string, attrs: Record<string, string>) => cm?.register(svc, id, attrs).then(() => 'accepted', (e: Error) => `refused: ${e.message.slice(0, 100)}`) as Promise<string>;
    await reg(big, 'ok', { AWS_INSTANCE_IPV4: '10.72.0.1', AWS_INSTANCE_PORT: '8080' });
    says['10,000 attributes'] = await reg(big, 'many', { AWS_INSTANCE_IPV4: '10.72.0.2', AWS_INSTANCE_PORT: '8080', ...Object.fromEntries(Array.from({ length: 10000 }, (_, i) => [`k${i}`, `v${i}`])) });
    says['1 MB value'] = await reg(big, 'huge', { AWS_INSTANCE_IPV4: '10.72.0.3', AWS_INSTANCE_PORT: '8080', blob: 'x'.repeat(1 << 20) });
    says['bad IPv4'] = await reg(big, 'badip', { AWS_INSTANCE_IPV4: '999.1.1.1', AWS_INSTANCE_PORT: '8080' });
    says['port 0'] = await reg(big, 'p0', { AWS_INSTANCE_IPV4: '10.72.0.5', AWS_INSTANCE_PORT: '0' });
    says['port 70000'] = await reg(big, 'p70k', { AWS_INSTANCE_IPV4: '10.72.0.6', AWS_INSTANCE_PORT: '70000' });
    const canary = await cm.service(nsId, 'canary');
    await reg(canary, 'c1', { AWS_INSTANCE_IPV4: '10.72.9.1', AWS_INSTANCE_PORT: '8080' });
    const writer = await sc.app('writer', sc.writerConfig({ [source]: { kind: 'cloudmap' } }));
    const collector = await sc.app('collector-cloudmap', cloudMapCollectorConfig(sc, source, [nsName]), awsEnv(sc.peers));
    await until('canary synced', () => sc.seOf('canary'), 60000);
    const se = await until('big synced', () => sc.seOf('big'), 30000);
    await sleep(4000);
    expect(writer.alive() && collector.alive()).toBe(true);
    const addrs = ((await sc.seOf('big'))?.spec.endpoints ?? []).map((e) => e.address).sort();
    expect(addrs).toContain('10.72.0.1');
    expect(addrs).not.toContain('999.1.1.1');
    const size = JSON.stringify(await sc.seOf('big')).length;
    expect(size).toBeLessThan(1 << 20); // the 1 MB value never reaches the API server
    const text = (await collector.get('/metrics')).text + (await writer.get('/metrics')).text;
    const counted = text.split('\n').filter((l) => /_(drops|dropped|refused)_total\{/.test(l) && l.includes(source)).map((l) => l.replace(/source="[^"]+",?/, ''));
    process.stdout.write(`[observed] bad input via Cloud Map:\n  moto said: ${JSON.stringify(says)}\n  big: endpoints ${addrs.join(',')} (object ${size} bytes, ${se.metadata.name})\n  counted: ${counted.join(' | ')}\n`);
  });
});
