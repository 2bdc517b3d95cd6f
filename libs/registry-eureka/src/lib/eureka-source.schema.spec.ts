import { eurekaSourceSchema, eurekaSourcesSchema, toClientOptions, toSyncOptions } from './eureka-source.schema';

const minimal = { name: 'eureka-a', serviceUrls: ['http://eureka-1:8761/eureka', 'http://eureka-2:8761/eureka'] };

describe('eurekaSourceSchema', () => {
  it('fills defaults and maps to client and sync options', () => {
    const s = eurekaSourceSchema.parse(minimal);
    expect(s).toMatchObject({ pollIntervalSeconds: 10, fullFetchIntervalSeconds: 300, useDelta: true, healthyStatuses: ['UP'], dashboard: { enabled: true, path: '/' } });
    expect(toClientOptions(s)).toMatchObject({ serviceUrls: minimal.serviceUrls, timeoutMs: 10000 });
    expect(toSyncOptions(s)).toMatchObject({ source: 'eureka-a', fullFetchIntervalMs: 300000, deltaRetentionMs: 150000, dashboardPath: '/', normalize: { protocolKey: 'protocol', servicePortKey: 'service-port' } });
  });

  it('resolves the password from the environment', () => {
    process.env['EUREKA_TEST_PW'] = 'pw';
    expect(eurekaSourceSchema.parse({ ...minimal, username: 'u', password: { env: 'EUREKA_TEST_PW' } }).password).toBe('pw');
    delete process.env['EUREKA_TEST_PW'];
  });

  it.each<[string, object, RegExp]>([
    ['an upper-case name', { name: 'Eureka' }, /name/],
    ['no server', { serviceUrls: [] }, /serviceUrls/],
    ['a non-http URL', { serviceUrls: ['ftp://x/eureka'] }, /serviceUrls/],
    ['a password in the URL', { serviceUrls: ['http://u:pw@x/eureka'] }, /must not carry a password/],
    ['a literal password', { username: 'u', password: 'pw' }, /password/],
    ['a password without user', { password: { env: 'HOME' } }, /username/],
    ['TLS without https', { tls: { caFile: '/ca.pem' } }, /tls/],
    ['a cert without key', { serviceUrls: ['https://x/eureka'], tls: { certFile: '/c.pem' } }, /certFile and keyFile/],
    ['an unknown key', { pollInterval: 5 }, /pollInterval|Unrecognized/],
    ['an unknown status', { healthyStatuses: ['ALIVE'] }, /healthyStatuses/],
  ])('rejects %s, naming the key', (_name, over, message) => {
    const r = eurekaSourceSchema.safeParse({ ...minimal, ...over });
    expect(r.success).toBe(false);
    expect(JSON.stringify(r.error?.issues.map((i) => [i.path.join('.'), i.message]))).toMatch(message);
    expect(JSON.stringify(r.error?.issues)).not.toContain('"pw"');
  });

  it('refuses duplicate source names', () => {
    expect(eurekaSourcesSchema.safeParse([minimal, minimal]).error?.issues[0].message).toMatch(/duplicate source name/);
  });
});
