import { matches } from './live-match';
import { canonicalJson } from './spec-hash.util';

const desired = {
  metadata: { labels: { a: '1' }, annotations: { k: 'v' } },
  spec: { hosts: ['web.service.consul'], ports: [{ name: 'http', number: 80 }] },
};
const live = (over: Partial<{ spec: unknown; labels: Record<string, string>; annotations: Record<string, string> }> = {}) => ({
  specJson: canonicalJson(over.spec ?? { ports: [{ number: 80, name: 'http' }], hosts: ['web.service.consul'] }),
  labels: over.labels ?? { a: '1' },
  annotations: over.annotations ?? { k: 'v' },
});

describe('matches', () => {
  it.each([
    ['same content, other key order', live(), true],
    ['extra labels and annotations added by others', live({ labels: { a: '1', other: 'x' }, annotations: { k: 'v', 'kubectl.kubernetes.io/x': 'y' } }), true],
    ['spec edited by hand', live({ spec: { hosts: ['web.service.consul'], ports: [{ name: 'http', number: 81 }] } }), false],
    ['our label changed', live({ labels: { a: '2' } }), false],
    ['our annotation missing', live({ annotations: {} }), false],
  ])('%s', (_name, l, expected) => {
    expect(matches(desired, l)).toBe(expected);
  });
});
