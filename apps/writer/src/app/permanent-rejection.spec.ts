import { KubeError } from '@registry-bridge/kube';
import { isPermanentRejection } from './permanent-rejection';

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
