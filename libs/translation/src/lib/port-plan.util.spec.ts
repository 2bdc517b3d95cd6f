import { ServiceRecord } from '@registry-bridge/contract';
import { planPorts, restrictToServedPorts } from './port-plan.util';
import type { Drop } from './translation.types';

const TCP = { defaultProtocol: 'TCP' };

describe('planPorts', () => {
  it.each<[string, ServiceRecord['ports'], Array<{ name: string; number: number; protocol: string }>, string[]]>([
    ['registry protocol kept', [{ name: 'grpc', number: 9090, protocol: 'grpc' }], [{ name: 'grpc', number: 9090, protocol: 'GRPC' }], []],
    ['default protocol when none', [{ name: 'db', number: 5432 }], [{ name: 'db', number: 5432, protocol: 'TCP' }], []],
    ['unknown protocol falls back and is counted', [{ name: 'x', number: 1, protocol: 'SPDY' }], [{ name: 'x', number: 1, protocol: 'TCP' }], ['port-protocol-unknown']],
    ['duplicate number dropped', [{ name: 'http', number: 80 }, { name: 'web', number: 80 }], [{ name: 'http', number: 80, protocol: 'TCP' }], ['port-duplicate-number']],
    ['duplicate name renamed', [{ name: 'http', number: 80 }, { name: 'HTTP', number: 81 }], [{ name: 'http', number: 80, protocol: 'TCP' }, { name: 'http-81', number: 81, protocol: 'TCP' }], ['port-duplicate-name']],
    ['unusable name replaced', [{ name: '!!', number: 7 }], [{ name: 'port-7', number: 7, protocol: 'TCP' }], []],
    ['a renamed duplicate does not take a name in use', [{ name: 'http', number: 80 }, { name: 'http-81', number: 82 }, { name: 'HTTP', number: 81 }], [{ name: 'http', number: 80, protocol: 'TCP' }, { name: 'http-81', number: 82, protocol: 'TCP' }, { name: 'http-81-2', number: 81, protocol: 'TCP' }], ['port-duplicate-name']],
    ['a renamed duplicate stays a DNS-1123 label', [{ name: 'a'.repeat(63), number: 80 }, { name: 'A'.repeat(63), number: 65535 }], [{ name: 'a'.repeat(63), number: 80, protocol: 'TCP' }, { name: `${'a'.repeat(57)}-65535`, number: 65535, protocol: 'TCP' }], ['port-duplicate-name']],
  ])('%s', (_n, ports, expected, reasons) => {
    const drops: Drop[] = [];
    expect(planPorts({ ports }, TCP, drops).ports).toEqual(expected);
    expect(drops.map((d) => d.reason)).toEqual(reasons);
  });

  it('caps 300 ports at the CRD limit of 256', () => {
    const drops: Drop[] = [];
    const plan = planPorts({ ports: Array.from({ length: 300 }, (_, i) => ({ name: `p${i}`, number: 1000 + i })) }, TCP, drops);
    expect(plan.ports).toHaveLength(256);
    expect(drops.filter((d) => d.reason === 'port-over-limit')).toHaveLength(44);
  });

  it('maps a duplicate number to the port that holds it, so endpoints naming it still find it', () => {
    const plan = planPorts({ ports: [{ name: 'http', number: 80 }, { name: 'web', number: 80 }] }, TCP, []);
    expect([...plan.names]).toEqual([
      ['http', 'http'],
      ['web', 'http'],
    ]);
  });
});

describe('restrictToServedPorts', () => {
  const ports = [
    { name: 'http', number: 8080, protocol: 'HTTP' },
    { name: 'https', number: 8443, protocol: 'HTTPS' },
  ];
  const ep = (id: string, served: string[]) => ({ id, ports: Object.fromEntries(served.map((n) => [n, 1])) });

  it.each<[string, Array<{ id: string; ports: Record<string, number> }>, string[], string[], string[]]>([
    ['every instance serves every port', [ep('a', ['http', 'https']), ep('b', ['http', 'https'])], ['http', 'https'], [], []],
    ['an instance without ports of its own serves every port', [ep('a', []), ep('b', ['http', 'https'])], ['http', 'https'], [], []],
    ['a port only some instances serve is left out', [ep('a', ['http', 'https']), ep('b', ['http'])], ['http'], [], ['port-not-served-by-all']],
    ['instances not serving the port most serve are left out', [ep('a', ['http']), ep('b', ['http']), ep('c', ['https'])], ['http'], ['c'], ['port-not-served-by-all']],
    ['no instances: every port kept', [], ['http', 'https'], [], []],
  ])('%s', (_n, endpoints, kept, left, reasons) => {
    const drops: Drop[] = [];
    const plan = planPorts({ ports }, TCP, []);
    const out = restrictToServedPorts(endpoints, plan, drops);
    expect(plan.ports.map((p) => p.name)).toEqual(kept);
    expect([...plan.unserved]).toEqual(ports.map((p) => p.name).filter((n) => !kept.includes(n)));
    expect([...out.keys()]).toEqual(left);
    expect(drops.map((d) => d.reason)).toEqual(reasons);
  });
});
