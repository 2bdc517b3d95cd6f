import { FakeState } from '../testing/writer-fakes';
import { HostIndex } from './host-index.service';

const state = (over: Partial<Parameters<FakeState['seed']>[0]> & { key: string }) => ({ revision: 1, lineage: '', observedAt: 1, deleted: false, ...over });

describe('HostIndex claims', () => {
  it.each<[string, (s: FakeState) => void, string | undefined]>([
    ['a free host', () => undefined, undefined],
    ['a host the same key holds', (s) => s.hosts.set('h.consul', 's//me'), undefined],
    ['a host a live key holds', (s) => (s.hosts.set('h.consul', 's//other'), s.seed(state({ key: 's//other' }))), 's//other'],
    ['a host a removed key still has written', (s) => (s.hosts.set('h.consul', 's//other'), s.seed(state({ key: 's//other', deleted: true, appliedHash: 'x' }))), 's//other'],
    ['a host a removed key no longer has written', (s) => (s.hosts.set('h.consul', 's//other'), s.seed(state({ key: 's//other', deleted: true }))), undefined],
    ['a host whose holder has no state left', (s) => s.hosts.set('h.consul', 's//gone'), undefined],
  ])('%s', async (_name, arrange, refusedBy) => {
    const s = new FakeState();
    arrange(s);
    const hosts = new HostIndex(s);
    expect(await hosts.claim('h.consul', 's//me')).toBe(refusedBy);
    expect(s.hosts.get('h.consul')).toBe(refusedBy ?? 's//me');
  });

  it('releases only its own claim', async () => {
    const s = new FakeState();
    const hosts = new HostIndex(s);
    await hosts.claim('h.consul', 's//me');
    await hosts.release('h.consul', 's//other');
    expect(s.hosts.get('h.consul')).toBe('s//me');
    await hosts.release('h.consul', 's//me');
    expect(s.hosts.has('h.consul')).toBe(false);
  });
});

describe('HostIndex foreign hosts', () => {
  it('knows which ServiceEntry not ours uses a host, follows changes, and skips the asker itself', () => {
    const hosts = new HostIndex(new FakeState());
    hosts.setForeign('team/a', ['x.consul', 'y.consul']);
    hosts.setForeign('team/b', ['y.consul']);
    expect(hosts.foreignHolder('x.consul')).toBe('team/a');
    expect(hosts.foreignHolder('y.consul', 'team/a')).toBe('team/b');
    hosts.setForeign('team/a', ['z.consul']);
    expect(hosts.foreignHolder('x.consul')).toBeUndefined();
    hosts.dropForeign('team/b');
    expect(hosts.foreignHolder('y.consul')).toBeUndefined();
    expect(hosts.foreignIds()).toEqual(['team/a']);
  });
});
