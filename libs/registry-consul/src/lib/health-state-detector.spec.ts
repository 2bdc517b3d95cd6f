import fc from 'fast-check';
import { changedChecks, checkSignatures, HealthCheckEntry } from './health-state-detector';

const svc = (ServiceName: string, Status: string, ModifyIndex = 1): HealthCheckEntry => ({ Node: 'n1', CheckID: `service:${ServiceName}`, Status, ServiceName, ModifyIndex });
const node = (Node: string, Status: string, ModifyIndex = 1): HealthCheckEntry => ({ Node, CheckID: 'serfHealth', Status, ServiceName: '', ModifyIndex });

describe('changedChecks', () => {
  it.each<[string, HealthCheckEntry[], HealthCheckEntry[], string[], string[]]>([
    ['nothing moved', [svc('web', 'passing')], [svc('web', 'passing')], [], []],
    ['a service check flipped', [svc('web', 'passing'), svc('api', 'passing')], [svc('web', 'critical'), svc('api', 'passing')], ['web'], []],
    ['a check moved its index only', [svc('web', 'passing', 1)], [svc('web', 'passing', 2)], ['web'], []],
    ['a service check went', [svc('web', 'passing'), svc('api', 'passing')], [svc('api', 'passing')], ['web'], []],
    ['a node check flipped', [node('n1', 'passing'), node('n2', 'passing')], [node('n1', 'critical'), node('n2', 'passing')], [], ['n1']],
    ['a node went', [node('n1', 'passing'), node('n2', 'passing')], [node('n2', 'passing')], [], ['n1']],
  ])('%s', (_name, before, after, services, nodes) => {
    const changed = changedChecks(checkSignatures(before), checkSignatures(after));
    expect(changed.services.sort()).toEqual(services);
    expect([...changed.nodes].sort()).toEqual(nodes);
  });

  it('the same answer in any order changes nothing', () => {
    const entry = fc.record({ ServiceName: fc.constantFrom('web', 'api', ''), Node: fc.constantFrom('n1', 'n2'), Status: fc.constantFrom('passing', 'critical'), CheckID: fc.constantFrom('a', 'b') });
    fc.assert(
      fc.property(fc.uniqueArray(entry, { selector: (e) => `${e.ServiceName}|${e.Node}|${e.CheckID}`, maxLength: 8 }), (checks) => {
        // per key, checks keep their order (Consul lists them in a stable order)
        const changed = changedChecks(checkSignatures(checks), checkSignatures([...checks]));
        expect(changed.services).toEqual([]);
        expect(changed.nodes.size).toBe(0);
      }),
    );
  });
});
