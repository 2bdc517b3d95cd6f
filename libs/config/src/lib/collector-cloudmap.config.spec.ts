import { loadConfig } from '@registry-bridge/app-config';
import { toSourceOptions } from '@registry-bridge/registry-cloudmap';
import { collectorCloudMapConfigSchema } from './collector-cloudmap.config';
import { configError, configFile } from './config-file.testing';

const file = (_name: string, text: string) => configFile(text);

// The example of docs/collectors/cloudmap.md.
const example = `
redis: { url: redis://127.0.0.1:6379 }
sources:
  - name: cloudmap-prod-euw1
    region: eu-west-1
    namespaces: { names: [prod.local], patterns: ["*.svc.internal"] }
    services: { deny: ["*-canary"] }
  - name: cloudmap-shared-use1
    region: us-east-1
    assumeRole:
      roleArn: arn:aws:iam::123456789012:role/registry-bridge-read
      externalId: rb-collector
    namespaces: { types: [HTTP] }
    budget:
      DiscoverInstancesRevision: { rps: 20 }
      DiscoverInstances: { rps: 10, burst: 20 }
    intervals: { revisionSeconds: 10, healthSeconds: 60 }
`;

describe('collector-cloudmap config', () => {
  it('accepts the documented example and fills defaults', () => {
    const cfg = loadConfig(collectorCloudMapConfigSchema, { RB_CONFIG_FILE: file('ok.yaml', example) });
    expect(cfg.sources[0]).toMatchObject({
      intervals: { inventorySeconds: 60, revisionSeconds: 5, healthSeconds: 30 },
      discoverMaxResults: 1000,
      namespaces: { types: ['HTTP', 'DNS_PRIVATE', 'DNS_PUBLIC'] },
      verifyServiceNamespace: false,
    });
    expect(cfg.sources[1].assumeRole).toMatchObject({ durationSeconds: 3600 });
    expect(cfg.sources[1].budget.DiscoverInstances).toEqual({ rps: 10, burst: 20 });
    expect(cfg.http.port).toBe(8080);
    expect(cfg.readinessGraceSeconds).toBe(150);
  });

  it('hands the client the same milliseconds as before the rename (defaults and fractions)', () => {
    const cfg = loadConfig(collectorCloudMapConfigSchema, { RB_CONFIG_FILE: file('ok3.yaml', example), RB__sources__1__throttle__baseDelaySeconds: '0.05' });
    const [first, second] = cfg.sources.map(toSourceOptions);
    expect(first.requestTimeoutMs).toBe(10000);
    expect(first.throttle).toEqual({ maxRetries: 5, baseDelayMs: 200, maxDelayMs: 20000, minFactor: 0.05, recoveryPerSecond: 0.05 });
    expect(second.throttle.baseDelayMs).toBe(50);
    expect(first).not.toHaveProperty('requestTimeoutSeconds');
  });

  it('takes env overrides', () => {
    const cfg = loadConfig(collectorCloudMapConfigSchema, { RB_CONFIG_FILE: file('ok2.yaml', example), RB__readinessGraceSeconds: '30' });
    expect(cfg.readinessGraceSeconds).toBe(30);
  });

  it.each<[string, string, RegExp]>([
    ['an old millisecond key', example.replace('region: eu-west-1', 'region: eu-west-1\n    requestTimeoutMs: 1000'), /sources\.0\.requestTimeoutMs: renamed to sources\.0\.requestTimeoutSeconds \(seconds\)/],
    ['an old throttle key', example.replace('region: eu-west-1', 'region: eu-west-1\n    throttle: { baseDelayMs: 5 }'), /sources\.0\.throttle\.baseDelayMs: renamed to sources\.0\.throttle\.baseDelaySeconds/],
    ['a bad region', example.replace('region: eu-west-1', 'region: europe'), /sources\.0\.region/],
    ['a bad role ARN', example.replace('arn:aws:iam::123456789012:role/registry-bridge-read', 'registry-bridge-read'), /sources\.1\.assumeRole\.roleArn/],
    ['a zero budget', example.replace('{ rps: 20 }', '{ rps: 0 }'), /sources\.1\.budget\.DiscoverInstancesRevision\.rps/],
    ['an unknown API in the budget', example.replace('DiscoverInstancesRevision:', 'RegisterInstance:'), /sources\.1\.budget.*RegisterInstance/],
    ['MaxResults above the API maximum', example.replace('region: eu-west-1', 'region: eu-west-1\n    discoverMaxResults: 5000'), /sources\.0\.discoverMaxResults/],
    ['an unknown namespace type', example.replace('types: [HTTP]', 'types: [DNS]'), /sources\.1\.namespaces\.types/],
    ['duplicate source names', example.replace('cloudmap-shared-use1', 'cloudmap-prod-euw1'), /sources: source names must be unique/],
    ['an upper-case source name', example.replace('cloudmap-prod-euw1', 'CloudMap'), /sources\.0\.name/],
  ])('names the key for %s', (_name, text, message) => {
    const error = configError(() => loadConfig(collectorCloudMapConfigSchema, { RB_CONFIG_FILE: file('bad.yaml', text) }));
    expect(error.message).toMatch(message);
  });
});
