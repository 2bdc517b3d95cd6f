import { KubeError } from '@registry-bridge/kube';
import { ANNOTATIONS, canonicalJson, specHash } from '@registry-bridge/translation';
import fc from 'fast-check';
import { DeletionFacts, deletionBudget, deletionHold, emptiedServiceEntry, isPermanentRejection, REFUSED_ANNOTATION } from './deletion-rules';

const NOW = 1_000_000_000;
const facts = (over: Partial<DeletionFacts> = {}): DeletionFacts => ({
  key: 'consul-dc1//web',
  source: 'consul-dc1',
  now: NOW,
  status: { reachable: true, conditions: {}, observedAt: NOW - 1000, heardAt: NOW - 1000 },
  silenceMs: 60_000,
  snapshot: { epoch: 1, complete: true, observedAt: NOW - 500, keys: new Set(['consul-dc1//other']) },
  cause: 'removed',
  stateObservedAt: NOW - 2000,
  since: NOW - 120_000,
  graceMs: 60_000,
  total: 100,
  maxDeletes: 20,
  maxDeletePercent: 10,
  windowSeconds: 300,
  deletionsInWindow: 0,
  ...over,
});

describe('deletionHold', () => {
  it.each<[string, Partial<DeletionFacts>, string | undefined]>([
    ['all rules met', {}, undefined],
    ['never heard from the source', { status: undefined }, 'source-unreachable'],
    ['source says unreachable', { status: { reachable: false, conditions: {}, observedAt: NOW, heardAt: NOW } }, 'source-unreachable'],
    ['source silent too long', { status: { reachable: true, conditions: {}, observedAt: NOW, heardAt: NOW - 61_000 } }, 'source-unreachable'],
    ['no complete snapshot', { snapshot: undefined }, 'no-complete-snapshot'],
    ['a removed key still in a newer snapshot', { snapshot: { epoch: 2, complete: true, observedAt: NOW - 100, keys: new Set(['consul-dc1//web']) } }, 'in-snapshot'],
    ['a refused key in the snapshot is expected', { cause: 'refused', snapshot: { epoch: 2, complete: true, observedAt: NOW - 100, keys: new Set(['consul-dc1//web']) } }, undefined],
    ['a refused key still needs a complete snapshot', { cause: 'refused', snapshot: undefined }, 'no-complete-snapshot'],
    ['a refused key still waits out the grace period', { cause: 'refused', since: NOW - 59_000 }, 'grace-period'],
    ['inside the grace period', { since: NOW - 1000 }, 'grace-period'],
    ['budget used up (count)', { deletionsInWindow: 20 }, 'deletion-budget'],
    ['budget by percent when larger', { total: 1000, deletionsInWindow: 99 }, undefined],
    ['budget by percent used up', { total: 1000, deletionsInWindow: 100 }, 'deletion-budget'],
  ])('%s', (_name, over, guard) => {
    expect(deletionHold(facts(over))?.guard).toBe(guard);
  });

  it('retries a grace-period hold exactly when the grace ends', () => {
    expect(deletionHold(facts({ since: NOW - 45_000 }))?.retryInMs).toBe(15_000);
  });

  it('never lets a deletion through for an unreachable source or beyond the budget, whatever else holds', () => {
    fc.assert(
      fc.property(fc.boolean(), fc.nat(200_000), fc.nat(50), fc.nat(5000), fc.constantFrom<'removed' | 'refused'>('removed', 'refused'), (reachable, age, done, total, cause) => {
        const f = facts({ cause, status: { reachable, conditions: {}, observedAt: NOW, heardAt: NOW - age }, deletionsInWindow: done, total });
        const hold = deletionHold(f);
        if (!reachable || age > f.silenceMs) expect(hold?.guard).toBe('source-unreachable');
        if (hold === undefined) expect(done).toBeLessThan(deletionBudget(total, f.maxDeletes, f.maxDeletePercent));
      }),
    );
  });
});

describe('emptiedServiceEntry', () => {
  const live = (spec: Record<string, unknown>) => ({
    namespace: 'mesh',
    name: 'consul-dc1-web-1a2b3c4d',
    uid: 'u-1',
    specJson: canonicalJson(spec),
    labels: { 'app.kubernetes.io/managed-by': 'registry-bridge', 'registry-bridge.io/installation': 'it' },
    annotations: { [ANNOTATIONS.serviceKey]: 'consul-dc1//web', [ANNOTATIONS.specHash]: 'old', 'kubectl.kubernetes.io/last-applied-configuration': '{}' },
  });

  it('drops the endpoints, resolves STATIC, keeps hosts, ports and selector, and says why', () => {
    const spec = { hosts: ['web.service.consul'], ports: [{ number: 80, name: 'http', protocol: 'HTTP' }], resolution: 'DNS', endpoints: [{ address: 'a.example' }], workloadSelector: { labels: { x: 'y' } } };
    const out = emptiedServiceEntry(live(spec), 'host-not-allowed: host "web.service.consul" is outside');
    expect(out.spec).toEqual({ hosts: ['web.service.consul'], ports: spec.ports, resolution: 'STATIC', workloadSelector: { labels: { x: 'y' } } });
    expect(out.metadata.annotations[REFUSED_ANNOTATION]).toBe('host-not-allowed: host "web.service.consul" is outside');
    expect(out.metadata.annotations['kubectl.kubernetes.io/last-applied-configuration']).toBeUndefined();
    expect(out.metadata.annotations[ANNOTATIONS.serviceKey]).toBe('consul-dc1//web');
  });

  it('carries a hash of exactly its own content, so the watch does not take it for a hand edit', () => {
    fc.assert(
      fc.property(fc.array(fc.ipV4(), { maxLength: 5 }), fc.constantFrom('STATIC', 'DNS'), fc.string({ maxLength: 40 }), (addresses, resolution, reason) => {
        const out = emptiedServiceEntry(live({ hosts: ['h.consul'], ports: [{ number: 1, name: 'tcp', protocol: 'TCP' }], resolution, endpoints: addresses.map((address) => ({ address })) }), reason);
        expect(out.metadata.annotations[ANNOTATIONS.specHash]).toBe(specHash(out));
        expect(out.spec['endpoints']).toBeUndefined();
        // Emptying is idempotent: emptying the emptied object gives the same object.
        const again = emptiedServiceEntry({ ...live({}), specJson: canonicalJson(out.spec), annotations: out.metadata.annotations }, reason);
        expect(again).toEqual(out);
      }),
    );
  });
});

describe('isPermanentRejection', () => {
  it.each<[number, string, boolean]>([
    [422, 'ServiceEntry.networking.istio.io "x" is invalid', true],
    [413, 'Request entity too large: limit is 3145728', true],
    [400, 'bad request', true],
    [500, 'etcdserver: request is too large', true],
    [500, 'internal error', false],
    [409, 'conflict', false],
    [429, 'too many requests', false],
    [403, 'forbidden', false],
    [0, 'ECONNRESET', false],
  ])('HTTP %i %s -> %s', (status, detail, permanent) => {
    expect(isPermanentRejection(new KubeError(status, 'apply', 'ServiceEntry ns/x', detail))).toBe(permanent);
  });

  it('is false for anything that is not an API error', () => {
    expect(isPermanentRejection(new Error('HTTP 422'))).toBe(false);
  });
});
