import { KubeClient, KubeError, KubeObject } from '@registry-bridge/kube';
import { LABELS } from '@registry-bridge/translation';
import pino from 'pino';
import { HostIndex } from './host-index.service';
import { needsAddress, ObjectCache } from './object-cache.service';
import type { StateStore } from './state-store.service';

const OURS = { [LABELS.managedBy]: 'registry-bridge', [LABELS.installation]: 'it' };

describe('needsAddress', () => {
  const tcp = [{ number: 5432, name: 'tcp', protocol: 'TCP' }];
  it.each<[string, Parameters<typeof needsAddress>[0], Parameters<typeof needsAddress>[1], boolean]>([
    ['TCP, no address anywhere', { ports: tcp, resolution: 'STATIC' }, undefined, true],
    ['TCP with an address in the spec', { ports: tcp, addresses: ['240.240.0.9'] }, undefined, false],
    ['TCP with an address allocated by istiod', { ports: tcp }, { addresses: [{ value: '240.240.0.1' }] }, false],
    ['TCP, status without a value yet', { ports: tcp }, { addresses: [{}] }, true],
    ['MySQL is opaque too', { ports: [{ protocol: 'MYSQL' }] }, undefined, true],
    ['HTTP is routed by Host header', { ports: [{ protocol: 'HTTP' }] }, undefined, false],
    ['TLS is routed by SNI', { ports: [{ protocol: 'TLS' }] }, undefined, false],
    ['one TCP port among HTTP ones', { ports: [{ protocol: 'HTTP' }, { protocol: 'tcp' }] }, undefined, true],
    ['resolution NONE never gets an address', { ports: tcp, resolution: 'NONE' }, undefined, false],
  ])('%s', (_name, spec, status, want) => {
    expect(needsAddress(spec, status)).toBe(want);
  });
});

describe('ObjectCache', () => {
  const cache = () => new ObjectCache({} as KubeClient, ['mesh'], 'it', pino({ level: 'silent' }), new HostIndex({} as StateStore), () => undefined);
  const se = (name: string, labels: Record<string, string>, spec: Record<string, unknown>, status?: unknown): KubeObject =>
    ({ apiVersion: 'networking.istio.io/v1', kind: 'ServiceEntry', metadata: { name, namespace: 'mesh', labels }, spec, status }) as KubeObject;
  const we = (name: string, seName: string, labels = OURS): KubeObject =>
    ({ apiVersion: 'networking.istio.io/v1', kind: 'WorkloadEntry', metadata: { name, namespace: 'mesh', labels: { ...labels, [LABELS.serviceEntry]: seName } }, spec: { address: '10.0.0.1' } }) as KubeObject;

  it('lists only our own TCP ServiceEntries without an address, and drops one once istiod allocated it', () => {
    const c = cache();
    c.remember('ServiceEntry', se('db', OURS, { hosts: ['db.consul'], ports: [{ number: 5432, name: 'tcp', protocol: 'TCP' }] }));
    c.remember('ServiceEntry', se('web', OURS, { hosts: ['web.consul'], ports: [{ number: 80, name: 'http', protocol: 'HTTP' }] }));
    c.remember('ServiceEntry', se('theirs', {}, { hosts: ['x.consul'], ports: [{ number: 5432, name: 'tcp', protocol: 'TCP' }] }));
    expect(c.ownedWithoutAddress()).toEqual(['mesh/db']);
    c.remember('ServiceEntry', se('db', OURS, { hosts: ['db.consul'], ports: [{ number: 5432, name: 'tcp', protocol: 'TCP' }] }, { addresses: [{ value: '240.240.0.1', host: 'db.consul' }] }));
    expect(c.ownedWithoutAddress()).toEqual([]);
  });

  it('finds our WorkloadEntries whose ServiceEntry is gone, never someone else\'s', () => {
    const c = cache();
    c.remember('ServiceEntry', se('orders', OURS, { hosts: ['orders.eureka'] }));
    c.remember('WorkloadEntry', we('orders-1', 'orders'));
    c.remember('WorkloadEntry', we('gone-1', 'gone'));
    c.remember('WorkloadEntry', we('foreign-1', 'gone', { [LABELS.managedBy]: 'registry-bridge', [LABELS.installation]: 'other' }));
    expect(c.orphanWorkloadEntries().map((o) => o.name)).toEqual(['gone-1']);
    c.forget('ServiceEntry', 'mesh', 'orders');
    expect(c.orphanWorkloadEntries().map((o) => o.name).sort()).toEqual(['gone-1', 'orders-1']);
  });
});

describe('ObjectCache host collisions across the cluster', () => {
  type Handlers = { sync: (items: KubeObject[]) => void; event: (type: 'ADDED' | 'MODIFIED' | 'DELETED', obj: KubeObject) => void; error: (err: unknown) => void };
  const streams = new Map<string, Handlers>();
  const stopped: string[] = [];
  const fakeKube = {
    listWatch: (_v: string, kind: string, _p: string, ns: string, h: Handlers) => {
      streams.set(`${kind}/${ns || '*'}`, h);
      return () => stopped.push(`${kind}/${ns || '*'}`);
    },
  } as unknown as KubeClient;
  const se = (namespace: string, name: string, host: string, labels: Record<string, string> = {}): KubeObject =>
    ({ apiVersion: 'networking.istio.io/v1', kind: 'ServiceEntry', metadata: { name, namespace, labels }, spec: { hosts: [host] } }) as KubeObject;
  const started = () => {
    streams.clear();
    stopped.length = 0;
    const hosts = new HostIndex({} as StateStore);
    const c = new ObjectCache(fakeKube, ['mesh'], 'it', pino({ level: 'silent' }), hosts, () => undefined);
    c.start();
    streams.get('ServiceEntry/mesh')?.sync([]);
    streams.get('WorkloadEntry/mesh')?.sync([]);
    return { c, hosts };
  };

  it('knows hosts of ServiceEntries in every namespace, not only ours, and is synced only once it listed them', () => {
    const { c, hosts } = started();
    expect(c.synced()).toBe(false);
    streams.get('ServiceEntry/*')?.sync([
      se('payments', 'db', 'db.service.consul'),
      se('old-ns', 'ours', 'web.service.consul', OURS),
      se('other-install', 'x', 'api.service.consul', { [LABELS.managedBy]: 'registry-bridge', [LABELS.installation]: 'staging' }),
    ]);
    expect(c.synced()).toBe(true);
    expect(hosts.collisionScope()).toEqual({ scope: 'cluster' });
    expect(hosts.foreignHolder('db.service.consul')).toBe('payments/db');
    // registry-bridge's own objects elsewhere (this installation's or another's) are not foreign holders
    expect(hosts.foreignHolder('web.service.consul')).toBeUndefined();
    expect(hosts.foreignHolder('api.service.consul')).toBeUndefined();
    streams.get('ServiceEntry/*')?.event('ADDED', se('team-b', 'cache', 'cache.service.consul'));
    expect(hosts.foreignHolder('cache.service.consul')).toBe('team-b/cache');
    streams.get('ServiceEntry/*')?.event('DELETED', se('team-b', 'cache', 'cache.service.consul'));
    expect(hosts.foreignHolder('cache.service.consul')).toBeUndefined();
  });

  it('falls back to our namespaces, says why and stops retrying, when listing all namespaces is forbidden', () => {
    const { c, hosts } = started();
    streams.get('ServiceEntry/*')?.error(new KubeError(403, 'list', 'ServiceEntry in all namespaces', 'forbidden'));
    expect(c.synced()).toBe(true);
    expect(hosts.collisionScope().scope).toBe('namespaces');
    expect(hosts.collisionScope().error).toMatch(/HTTP 403/);
    expect(stopped).toEqual(['ServiceEntry/*']);
  });
});
