import fc from 'fast-check';
import { globMatcher, GlobRules, globToRegExp } from './name-glob';

describe('globToRegExp', () => {
  it.each([
    ['web-*', 'web-api', true],
    ['web-*', 'api-web', false],
    ['a?c', 'abc', true],
    ['a?c', 'abbc', false],
    ['a.c', 'abc', false],
    ['svc.local', 'svcxlocal', false],
    ['(x)+', '(x)+', true],
    ['*', 'anything', true],
  ])('%s vs %s -> %s', (glob, name, expected) => {
    expect(globToRegExp(glob).test(name)).toBe(expected);
  });

  it('is case-sensitive unless told otherwise', () => {
    expect(globToRegExp('orders*').test('ORDERS-API')).toBe(false);
    expect(globToRegExp('orders*', { ignoreCase: true }).test('ORDERS-API')).toBe(true);
  });

  it('a glob without * or ? matches exactly itself, whatever characters it holds', () => {
    fc.assert(
      fc.property(fc.string().filter((s) => !/[*?]/.test(s)), fc.string(), (literal, other) => {
        expect(globToRegExp(literal).test(literal)).toBe(true);
        if (other !== literal) expect(globToRegExp(literal).test(other)).toBe(false);
      }),
    );
  });
});

describe('globMatcher', () => {
  it('matches any of the globs, and nothing for none', () => {
    expect(globMatcher(['a*', 'b*'])('bee')).toBe(true);
    expect(globMatcher(['a*', 'b*'])('cee')).toBe(false);
    expect(globMatcher([])('a')).toBe(false);
  });
});

describe('GlobRules', () => {
  it.each<[object, string, string | undefined]>([
    [{}, 'web', undefined],
    [{ deny: ['legacy-*'] }, 'legacy-db', 'denied'],
    [{ allow: ['web*', 'api'], deny: ['web-old'] }, 'web-old', 'denied'],
    [{ allow: ['web*'] }, 'api', 'not_allowed'],
    [{ allow: ['web*'] }, 'web2', undefined],
  ])('%j on %s -> %s', (rules, name, verdict) => {
    expect(new GlobRules(rules).verdict(name)).toBe(verdict);
    expect(new GlobRules(rules).passes(name)).toBe(verdict === undefined);
  });

  // Eureka app names: case-insensitive, as Eureka compares them.
  it.each<[object, string, boolean]>([
    [{ allow: ['orders*'] }, 'ORDERS-API', true],
    [{ allow: ['orders*'] }, 'PAYMENTS', false],
    [{ deny: ['*-canary'] }, 'ORDERS-CANARY', false],
    [{ allow: ['orders*'], deny: ['orders-internal'] }, 'ORDERS-INTERNAL', false],
    [{ allow: ['a?c'] }, 'ABC', true],
    [{ allow: ['a.c'] }, 'ABC', false],
  ])('ignoring case, %j on %s -> %s', (rules, name, expected) => {
    expect(new GlobRules(rules, { ignoreCase: true }).passes(name)).toBe(expected);
  });
});
