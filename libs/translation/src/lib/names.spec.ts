import { classifyAddress, isValidLabelKey, isValidLabelValue, objectName, sanitizeLabelPart } from './names';

describe('names', () => {
  it.each([
    ['10.0.0.1', 'ipv4'],
    ['::1', 'ipv6'],
    ['fe80::1%eth0', 'invalid'],
    ['api.example.com', 'hostname'],
    ['API.example.com.', 'hostname'],
    ['300.1.1.1', 'invalid'],
    ['under_score.example', 'invalid'],
    ['', 'invalid'],
    ['a'.repeat(64) + '.com', 'invalid'],
  ])('classifies %s as %s', (address, kind) => expect(classifyAddress(address)).toBe(kind));

  it.each([
    ['version', true],
    ['example.com/tier', true],
    ['Example.com/tier', false],
    ['bad key', false],
    ['-leading', false],
    ['a'.repeat(63), true],
    ['a'.repeat(64), false],
    ['/empty-prefix', false],
  ])('label key %s valid=%s', (key, valid) => expect(isValidLabelKey(key)).toBe(valid));

  it.each([
    ['', true],
    ['v1.2_3', true],
    ['has space', false],
    ['x'.repeat(64), false],
  ])('label value %j valid=%s', (value, valid) => expect(isValidLabelValue(value)).toBe(valid));

  it('sanitizes parts and builds short, distinct names', () => {
    expect(sanitizeLabelPart('Hello_World!!')).toBe('hello-world');
    expect(objectName(['', '%%'], 'k')).toMatch(/^rb-[0-9a-f]{8}$/);
    expect(objectName(['a-b', 'c'], 'a-b//c')).not.toBe(objectName(['a', 'b-c'], 'a//b-c'));
  });
});
