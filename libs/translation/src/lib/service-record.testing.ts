import { Endpoint, ServiceRecord } from '@registry-bridge/contract';

/** A healthy endpoint for specs, with any field overridden. */
export const testEndpoint = (id: string, address: string, over: Partial<Endpoint> = {}): Endpoint => ({
  id,
  address,
  ports: {},
  labels: {},
  health: 'healthy' as const,
  ...over,
});

/** A record of the Consul source of testRules (service web, port http/8080, two endpoints), with any field overridden. */
export const testRecord = (over: Partial<ServiceRecord> = {}): ServiceRecord => ({
  source: { name: 'consul-dc1', kind: 'consul' },
  service: 'web',
  ports: [{ name: 'http', number: 8080, protocol: 'HTTP' }],
  endpoints: [testEndpoint('web-1', '10.0.0.1'), testEndpoint('web-2', '10.0.0.2')],
  metadata: {},
  revision: 7,
  observedAt: '2026-11-24T10:00:00.000Z',
  ...over,
});
