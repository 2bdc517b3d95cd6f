import fc from 'fast-check';
import { DeletionFacts, DeletionGuard, DeletionLimits, DeletionPolicy } from './deletion.policy';

const NOW = 1_000_000_000;
const LIMITS: DeletionLimits = { gracePeriodSeconds: 60, maxDeletes: 20, maxDeletePercent: 10, windowSeconds: 300, sourceSilenceSeconds: 60 };
const policy = new DeletionPolicy(LIMITS);
const facts = (over: Partial<DeletionFacts> = {}): DeletionFacts => ({
  key: 'consul-dc1//web',
  source: 'consul-dc1',
  now: NOW,
  status: { reachable: true, conditions: {}, observedAt: NOW - 1000, heardAt: NOW - 1000 },
  snapshot: { epoch: 1, complete: true, observedAt: NOW - 500, keys: new Set(['consul-dc1//other']) },
  cause: 'removed',
  stateObservedAt: NOW - 2000,
  since: NOW - 120_000,
  total: 100,
  deletionsInWindow: 0,
  ...over,
});
const inSnapshot = { epoch: 2, complete: true, observedAt: NOW - 100, keys: new Set(['consul-dc1//web']) };

describe('DeletionPolicy.hold', () => {
  it.each<[string, Partial<DeletionFacts>, DeletionGuard | undefined]>([
    ['all rules met', {}, undefined],
    ['never heard from the source', { status: undefined }, 'source-unreachable'],
    ['source says unreachable', { status: { reachable: false, conditions: {}, observedAt: NOW, heardAt: NOW } }, 'source-unreachable'],
    ['source silent too long', { status: { reachable: true, conditions: {}, observedAt: NOW, heardAt: NOW - 61_000 } }, 'source-unreachable'],
    ['source silent exactly sourceSilenceSeconds', { status: { reachable: true, conditions: {}, observedAt: NOW, heardAt: NOW - 60_000 } }, 'source-unreachable'],
    ['no complete snapshot', { snapshot: undefined }, 'no-complete-snapshot'],
    ['a removed key still in a newer snapshot', { snapshot: inSnapshot }, 'in-snapshot'],
    ['a removed key listed only by a snapshot older than its removal', { snapshot: { ...inSnapshot, observedAt: NOW - 3000 } }, undefined],
    ['a refused key in the snapshot is expected', { cause: 'refused', snapshot: inSnapshot }, undefined],
    ['a refused key still needs a complete snapshot', { cause: 'refused', snapshot: undefined }, 'no-complete-snapshot'],
    ['a refused key still needs a reachable source', { cause: 'refused', status: undefined }, 'source-unreachable'],
    ['a refused key still waits out the grace period', { cause: 'refused', since: NOW - 59_000 }, 'grace-period'],
    ['a refused key with no instance left for lack of ports is kept empty', { cause: 'refused', refusal: { reason: 'no-ports', instances: 0 } }, 'kept-empty'],
    ['kept empty even when every other guard would pass or hold', { cause: 'refused', refusal: { reason: 'no-ports', instances: 0 }, status: undefined, snapshot: undefined }, 'kept-empty'],
    ['no ports while instances remain is deleted like any refusal', { cause: 'refused', refusal: { reason: 'no-ports', instances: 2 } }, undefined],
    ['another refusal with no instance is deleted like any refusal', { cause: 'refused', refusal: { reason: 'host-not-allowed', instances: 0 } }, undefined],
    ['inside the grace period', { since: NOW - 1000 }, 'grace-period'],
    ['budget used up (count)', { deletionsInWindow: 20 }, 'deletion-budget'],
    ['budget by percent when larger', { total: 1000, deletionsInWindow: 99 }, undefined],
    ['budget by percent used up', { total: 1000, deletionsInWindow: 100 }, 'deletion-budget'],
  ])('%s', (_name, over, guard) => {
    expect(policy.hold(facts(over))?.guard).toBe(guard);
  });

  it('retries a grace-period hold exactly when the grace ends', () => {
    expect(policy.hold(facts({ since: NOW - 45_000 }))?.retryInMs).toBe(15_000);
  });

  it('looks again at a used-up budget within the window, at most every 30 s', () => {
    expect(policy.hold(facts({ deletionsInWindow: 20 }))?.retryInMs).toBe(30_000);
    expect(new DeletionPolicy({ ...LIMITS, windowSeconds: 5 }).budgetHold('s', 2).retryInMs).toBe(5000);
  });

  it('gives a kept-empty object no retry of its own: only a new record changes it', () => {
    expect(policy.hold(facts({ cause: 'refused', refusal: { reason: 'no-ports', instances: 0 } }))?.retryInMs).toBeUndefined();
  });
});

describe('DeletionPolicy.budget and reachable', () => {
  it.each<[number, number, number, number]>([
    [20, 10, 0, 20],
    [20, 10, 100, 20],
    [20, 10, 1000, 100],
    [2, 0, 5000, 2],
    [0, 50, 3, 1],
    [0, 0, 100, 0],
    [5, 10, -3, 5],
  ])('maxDeletes %i, %i%% of %i services -> %i', (maxDeletes, maxDeletePercent, total, want) => {
    expect(new DeletionPolicy({ ...LIMITS, maxDeletes, maxDeletePercent }).budget(total)).toBe(want);
  });

  it.each<[string, DeletionFacts['status'], boolean]>([
    ['heard just now and reachable', { reachable: true, conditions: {}, observedAt: NOW, heardAt: NOW }, true],
    ['heard 59.999 s ago', { reachable: true, conditions: {}, observedAt: NOW, heardAt: NOW - 59_999 }, true],
    ['heard 60 s ago', { reachable: true, conditions: {}, observedAt: NOW, heardAt: NOW - 60_000 }, false],
    ['says unreachable', { reachable: false, conditions: {}, observedAt: NOW, heardAt: NOW }, false],
    ['never heard', undefined, false],
  ])('%s -> %s', (_name, status, want) => {
    expect(policy.reachable(status, NOW)).toBe(want);
  });
});

describe('DeletionPolicy.snapshotHold', () => {
  it.each<[number, number, boolean]>([
    [20, 100, false],
    [21, 100, true],
    [100, 1000, false],
    [101, 1000, true],
    [0, 0, false],
  ])('%i removals of %i services held: %s', (removals, total, heldByGuard) => {
    const hold = policy.snapshotHold('consul-dc1', removals, total);
    expect(hold?.guard).toBe(heldByGuard ? 'snapshot-budget' : undefined);
    if (hold) expect(hold.detail).toContain(`${removals} of ${total}`);
  });
});

describe('DeletionPolicy: no combination deletes while any guard holds', () => {
  type Tripped = { keptEmpty: boolean; unreachable: 'no' | 'never-heard' | 'says-so' | 'silent'; noSnapshot: boolean; inSnapshot: boolean; inGrace: boolean; budgetUsed: boolean };
  const limits = fc.record({
    gracePeriodSeconds: fc.integer({ min: 1, max: 600 }),
    maxDeletes: fc.integer({ min: 1, max: 50 }),
    maxDeletePercent: fc.integer({ min: 0, max: 100 }),
    windowSeconds: fc.integer({ min: 1, max: 600 }),
    sourceSilenceSeconds: fc.integer({ min: 1, max: 600 }),
  });
  const tripped = fc.record<Tripped>({
    keptEmpty: fc.boolean(),
    unreachable: fc.constantFrom('no', 'never-heard', 'says-so', 'silent'),
    noSnapshot: fc.boolean(),
    inSnapshot: fc.boolean(),
    inGrace: fc.boolean(),
    budgetUsed: fc.boolean(),
  });
  // The budget as DESIGN section 4 states it, written independently of the policy.
  const expectedBudget = (l: DeletionLimits, total: number) => Math.max(l.maxDeletes, Math.floor((total * l.maxDeletePercent) / 100));

  it('holds exactly when at least one guard is tripped, and names one of those', () => {
    fc.assert(
      fc.property(limits, tripped, fc.constantFrom<'removed' | 'refused'>('removed', 'refused'), fc.nat(5000), fc.nat(1_000_000), fc.nat(1_000_000), (l, t, cause, total, a, b) => {
        const silenceMs = l.sourceSilenceSeconds * 1000;
        const graceMs = l.gracePeriodSeconds * 1000;
        const keptEmpty = t.keptEmpty && cause === 'refused';
        const inSnap = t.inSnapshot && cause === 'removed';
        const budget = expectedBudget(l, total);
        const heardAt = t.unreachable === 'silent' ? NOW - silenceMs - (a % 100_000) : NOW - (a % silenceMs);
        const f: DeletionFacts = {
          key: 'src//svc',
          source: 'src',
          now: NOW,
          cause,
          refusal: cause === 'refused' ? (keptEmpty ? { reason: 'no-ports', instances: 0 } : { reason: b % 2 ? 'no-ports' : 'host-collision', instances: b % 2 ? 1 + (b % 7) : b % 3 }) : undefined,
          status: t.unreachable === 'never-heard' ? undefined : { reachable: t.unreachable !== 'says-so', conditions: {}, observedAt: NOW, heardAt },
          // A snapshot older than the key's state does not hold a removal even when it lists the key.
          snapshot: t.noSnapshot ? undefined : { epoch: 1, complete: true, observedAt: inSnap ? NOW - 10 : NOW - 5000, keys: new Set(inSnap || b % 2 ? ['src//svc'] : ['src//other']) },
          stateObservedAt: NOW - 1000,
          since: t.inGrace ? NOW - (b % graceMs) : NOW - graceMs - (b % 100_000),
          total,
          deletionsInWindow: t.budgetUsed ? budget + (a % 10) : Math.max(0, budget - 1 - (a % Math.max(budget, 1))),
        };
        const trippedGuards = new Set<DeletionGuard>();
        if (keptEmpty) trippedGuards.add('kept-empty');
        if (t.unreachable !== 'no') trippedGuards.add('source-unreachable');
        if (t.noSnapshot) trippedGuards.add('no-complete-snapshot');
        if (inSnap && !t.noSnapshot) trippedGuards.add('in-snapshot');
        if (t.inGrace) trippedGuards.add('grace-period');
        if (t.budgetUsed) trippedGuards.add('deletion-budget');
        const hold = new DeletionPolicy(l).hold(f);
        if (trippedGuards.size === 0) expect(hold).toBeUndefined();
        else expect(trippedGuards.has(hold?.guard as DeletionGuard)).toBe(true);
      }),
      { numRuns: 2000 },
    );
  });
});
