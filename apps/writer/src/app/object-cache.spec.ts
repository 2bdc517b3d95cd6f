import { KubeClient, KubeObject } from '@registry-bridge/kube';
import { LABELS } from '@registry-bridge/translation';
import pino from 'pino';
import { needsAddress, ObjectCache } from './object-cache';

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
  const cache = () => new ObjectCache({} as KubeClient, ['mesh'], 'it', pino({ level: 'silent' }), () => undefined);
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
