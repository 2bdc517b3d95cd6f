import { portsNeedingAddress } from './ports-needing-address.util';

type Port = { name: string; number: number; protocol: string };
const db: Port[] = [{ name: 'db', number: 5432, protocol: 'TCP' }];

describe('portsNeedingAddress', () => {
  it.each<[string, Port[], { addresses?: string[]; resolution?: string }, string[] | undefined, string[]]>([
    ['TCP without an address', db, {}, undefined, ['db']],
    ['MySQL, Mongo and Redis are matched on the address too', [{ name: 'm', number: 3306, protocol: 'MYSQL' }, { name: 'g', number: 27017, protocol: 'MONGO' }, { name: 'r', number: 6379, protocol: 'REDIS' }], {}, undefined, ['m', 'g', 'r']],
    ['HTTP and TLS are told apart by Host and SNI', [{ name: 'http', number: 80, protocol: 'HTTP' }, { name: 'tls', number: 443, protocol: 'TLS' }, { name: 'grpc', number: 9090, protocol: 'GRPC' }], {}, undefined, []],
    ['TCP with an address from istiod', db, {}, ['240.240.0.1'], []],
    ['TCP with an address of its own', db, { addresses: ['10.9.0.1'] }, undefined, []],
    ['resolution NONE never gets one', db, { resolution: 'NONE' }, undefined, []],
  ])('%s', (_n, ports, spec, allocated, expected) => {
    const live = { spec: { hosts: ['web.service.consul'], resolution: 'STATIC', ports, ...spec }, status: allocated ? { addresses: allocated.map((value) => ({ value, host: 'web.service.consul' })) } : undefined };
    expect(portsNeedingAddress(live)).toEqual(expected);
  });
});
