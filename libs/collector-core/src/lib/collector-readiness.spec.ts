import { CollectorReadiness } from './collector-readiness';

describe('CollectorReadiness', () => {
  it('evaluates every registered check; a throwing check is not ready', async () => {
    const r = new CollectorReadiness();
    r.register('consul-dc1', () => true);
    r.register('consul-dc2', async () => ({ ready: false, detail: 'no success for 90s' }));
    r.register('consul-dc3', () => {
      throw new Error('boom');
    });
    expect(await r.evaluate()).toEqual([
      { name: 'consul-dc1', ready: true },
      { name: 'consul-dc2', ready: false, detail: 'no success for 90s' },
      { name: 'consul-dc3', ready: false, detail: 'boom' },
    ]);
    r.unregister('consul-dc3');
    expect(r.names()).toEqual(['consul-dc1', 'consul-dc2']);
  });
});
