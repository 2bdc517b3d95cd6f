import { decodeApplications, EurekaPayloadError, instanceKey, toMillis } from './eureka-payload';

describe('decodeApplications', () => {
  it('accepts a single application and a single instance given as objects (older codecs)', () => {
    const p = decodeApplications({ applications: { versions__delta: 3, apps__hashcode: 'UP_1_', application: { name: 'orders', instance: { instanceId: 'o1', status: 'UP' } } } });
    expect(p.hashCode).toBe('UP_1_');
    expect(p.versionsDelta).toBe('3');
    expect([...p.apps.keys()]).toEqual(['ORDERS']);
    expect(p.apps.get('ORDERS')).toHaveLength(1);
  });

  it('reads an empty registry', () => {
    const p = decodeApplications({ applications: { versions__delta: '1', apps__hashcode: '', application: [] } });
    expect(p.apps.size).toBe(0);
  });

  it('takes the app name from the instance when the application has none, and skips junk', () => {
    const p = decodeApplications({ applications: { application: [{ instance: [{ app: 'pay', instanceId: 'p' }, null, 7] }, null, { name: '' }] } });
    expect([...p.apps.keys()]).toEqual(['PAY']);
    expect(p.apps.get('PAY')).toHaveLength(1);
  });

  it.each([null, 'x', {}, { applications: null }])('refuses an unusable envelope %j', (body) => {
    expect(() => decodeApplications(body)).toThrow(EurekaPayloadError);
  });
});

describe('instanceKey and toMillis', () => {
  it.each([
    [{ instanceId: 'i', hostName: 'h' }, 'i'],
    [{ hostName: 'h' }, 'h'],
    [{}, undefined],
  ])('%j -> %s', (i, k) => expect(instanceKey(i)).toBe(k));
  it.each([
    ['1700000000000', 1700000000000],
    [1700000000000, 1700000000000],
    ['abc', undefined],
    [-1, undefined],
    [undefined, undefined],
  ])('%j -> %s', (v, n) => expect(toMillis(v)).toBe(n));
});
