import fc from 'fast-check';
import { sanitizeLabels } from './endpoint-labels.util';
import { isValidLabelKey, isValidLabelValue } from './names';
import { isReservedLabelKey } from './ownership';
import { CRD_LIMITS } from './source-rules';
import type { Drop } from './translation.types';

const counts = (drops: Drop[]) => drops.reduce<Record<string, number>>((c, d) => ({ ...c, [d.reason]: (c[d.reason] ?? 0) + 1 }), {});

describe('sanitizeLabels', () => {
  it('drops invalid keys and values and reserved keys, and counts them', () => {
    const drops: Drop[] = [];
    const labels = { version: 'v1', 'bad key': 'x', 'ok/also': 'y', long: 'v'.repeat(64), 'registry-bridge.io/source': 'forged', 'app.kubernetes.io/managed-by': 'me' };
    expect(sanitizeLabels(labels, drops, 'endpoint a')).toEqual({ version: 'v1', 'ok/also': 'y' });
    expect(counts(drops)).toEqual({ 'label-invalid-key': 1, 'label-invalid-value': 1, 'label-reserved': 2 });
    expect(drops.every((d) => d.detail.startsWith('endpoint a: '))).toBe(true);
  });

  it.each([
    'security.istio.io/tlsMode',
    'topology.istio.io/network',
    'topology.istio.io/subzone',
    'networking.istio.io/gatewayPort',
    'istio.io/rev',
    'service.istio.io/canonical-name',
    'sidecar.istio.io/inject',
    'istio-locality',
    'topology.kubernetes.io/zone',
    'topology.kubernetes.io/region',
    'kubernetes.io/hostname',
    'node.kubernetes.io/instance-type',
    'service.kubernetes.io/headless',
    'k8s.io/x',
    'app.kubernetes.io/managed-by',
    'registry-bridge.io/source',
    'registry-bridge.io/anything',
  ])('drops the reserved label %s and counts it', (key) => {
    const drops: Drop[] = [];
    expect(sanitizeLabels({ [key]: 'x', version: 'v1' }, drops, 'endpoint a')).toEqual({ version: 'v1' });
    expect(counts(drops)).toEqual({ 'label-reserved': 1 });
  });

  it.each(['app.kubernetes.io/name', 'app.kubernetes.io/version', 'example.com/istio.io', 'version', 'app'])('keeps the ordinary label %s', (key) => {
    const drops: Drop[] = [];
    expect(sanitizeLabels({ [key]: 'x' }, drops, 'endpoint a')).toEqual({ [key]: 'x' });
    expect(drops).toEqual([]);
  });

  it('keeps room under the label limit for the labels the translator adds', () => {
    const drops: Drop[] = [];
    const labels = Object.fromEntries(Array.from({ length: CRD_LIMITS.labels }, (_, i) => [`k${String(i).padStart(3, '0')}`, 'v']));
    const out = sanitizeLabels(labels, drops, 'endpoint a');
    expect(Object.keys(out)).toHaveLength(CRD_LIMITS.labels - 8);
    expect(counts(drops)).toEqual({ 'label-over-limit': 8 });
  });

  it('keeps exactly the valid, unreserved labels, each once counted otherwise', () => {
    fc.assert(
      fc.property(fc.dictionary(fc.oneof(fc.string({ maxLength: 70 }), fc.constantFrom('istio.io/rev', 'app', 'a/b')), fc.string({ maxLength: 70 }), { maxKeys: 20 }), (labels) => {
        const drops: Drop[] = [];
        const out = sanitizeLabels(labels, drops, 'endpoint a');
        for (const [k, v] of Object.entries(out)) {
          expect(labels[k]).toBe(v);
          expect(isReservedLabelKey(k) || !isValidLabelKey(k) || !isValidLabelValue(v)).toBe(false);
        }
        expect(Object.keys(out).length + drops.length).toBe(Object.keys(labels).length);
      }),
      { numRuns: 200 },
    );
  });
});
