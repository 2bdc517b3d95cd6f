import { LIMITS } from '@registry-bridge/contract';
import { describeError, isNotFound, SinkError } from './cloudmap-errors.util';

describe('describeError', () => {
  it.each<[string, unknown, string]>([
    ['an AWS error: name and message', Object.assign(new Error('Rate exceeded'), { name: 'ThrottlingException', $metadata: { requestId: 'r-1' } }), 'ThrottlingException: Rate exceeded'],
    ['an object without a name', { message: 'odd' }, 'Error: odd'],
    ['a string', 'boom', 'boom'],
    ['undefined', undefined, 'undefined'],
  ])('%s', (_n, err, expected) => {
    expect(describeError(err)).toBe(expected);
  });

  it('cuts a long message to the contract limit', () => {
    expect(describeError(new Error('x'.repeat(LIMITS.error * 2)))).toHaveLength(LIMITS.error);
  });
});

describe('isNotFound', () => {
  it.each<[unknown, boolean]>([
    [{ name: 'ServiceNotFound' }, true],
    [{ name: 'NamespaceNotFound' }, true],
    [{ name: 'ThrottlingException' }, false],
    [new Error('ServiceNotFound'), false],
    [undefined, false],
  ])('%j -> %s', (err, expected) => {
    expect(isNotFound(err)).toBe(expected);
  });
});

describe('SinkError', () => {
  it('carries what the port threw', () => {
    const cause = new Error('redis down');
    expect(new SinkError(cause).cause).toBe(cause);
  });
});
