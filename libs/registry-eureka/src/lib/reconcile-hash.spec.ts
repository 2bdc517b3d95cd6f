import { ReconcileCounts, reconcileHashCode } from './reconcile-hash';

describe('reconcileHashCode', () => {
  it.each<[string, string[][], string]>([
    ['an empty registry', [], ''],
    ['one UP instance', [['UP']], 'UP_1_'],
    ['counts over all apps, statuses sorted', [['UP', 'DOWN'], ['UP', 'UP']], 'DOWN_1_UP_3_'],
    ['every status Eureka knows', [['UP', 'OUT_OF_SERVICE', 'STARTING', 'DOWN', 'UNKNOWN']], 'DOWN_1_OUT_OF_SERVICE_1_STARTING_1_UNKNOWN_1_UP_1_'],
  ])('%s', (_name, apps, expected) => {
    expect(reconcileHashCode(apps.map((statuses) => statuses.map((status) => ({ status }))))).toBe(expected);
  });

  it('counts an instance without status as UNKNOWN', () => {
    expect(reconcileHashCode([[{}, { status: 'UP' }]])).toBe('UNKNOWN_1_UP_1_');
  });

  it('kept incrementally: statuses whose count drops to zero leave the hash', () => {
    const c = new ReconcileCounts();
    c.add({ status: 'UP' });
    c.add({ status: 'DOWN' });
    c.add({});
    expect(c.hashCode()).toBe('DOWN_1_UNKNOWN_1_UP_1_');
    c.remove({ status: 'DOWN' });
    c.remove({ status: '' });
    expect(c.hashCode()).toBe('UP_1_');
    c.clear();
    expect(c.hashCode()).toBe('');
  });
});
