import { backoffDelay, nextIndex, parseConsulIndex, rateLimitDelay, recoveryTimeoutMs, requestTimeoutMs } from './blocking-index';

describe('nextIndex (Consul blocking-query rules)', () => {
  it.each`
    previous | returned     | verdict        | next
    ${0}     | ${12}        | ${'changed'}   | ${12}
    ${12}    | ${12}        | ${'unchanged'} | ${12}
    ${12}    | ${15}        | ${'changed'}   | ${15}
    ${15}    | ${9}         | ${'reset'}     | ${0}
    ${0}     | ${0}         | ${'changed'}   | ${1}
    ${12}    | ${0}         | ${'reset'}     | ${1}
    ${0}     | ${undefined} | ${'changed'}   | ${1}
    ${7}     | ${NaN}       | ${'reset'}     | ${1}
    ${1}     | ${1}         | ${'unchanged'} | ${1}
  `('previous $previous, returned $returned -> $verdict, next $next', ({ previous, returned, verdict, next }) => {
    expect(nextIndex(previous, returned)).toEqual({ verdict, next });
  });
});

describe('parseConsulIndex', () => {
  it.each<[string | string[] | undefined, number | undefined]>([
    ['42', 42],
    [['7', '8'], 7],
    ['', undefined],
    [undefined, undefined],
    ['-1', undefined],
    ['abc', undefined],
    ['99999999999999999999', undefined],
  ])('%j -> %j', (h, n) => expect(parseConsulIndex(h)).toBe(n));
});

describe('backoffDelay', () => {
  it('grows exponentially up to the cap and is jittered below it', () => {
    expect(backoffDelay(0, 100, 10000, () => 0.999)).toBe(99);
    expect(backoffDelay(3, 100, 10000, () => 0.999)).toBe(799);
    expect(backoffDelay(20, 100, 10000, () => 0.999)).toBe(9990);
    expect(backoffDelay(5, 100, 10000, () => 0)).toBe(0);
  });
});

describe('rateLimitDelay / requestTimeoutMs', () => {
  it('waits the rest of the interval only', () => {
    expect(rateLimitDelay(1000, 1100, 250)).toBe(150);
    expect(rateLimitDelay(1000, 2000, 250)).toBe(0);
  });
  it('outlasts the wait plus Consul jitter', () => {
    expect(requestTimeoutMs(16000, 1000)).toBe(18000);
  });
});

describe('recoveryTimeoutMs (the read after a failure)', () => {
  it.each`
    failures | shortMs | normalMs | expected
    ${1}     | ${3000} | ${10000} | ${3000}
    ${2}     | ${3000} | ${10000} | ${6000}
    ${4}     | ${3000} | ${10000} | ${10000}
    ${0}     | ${3000} | ${10000} | ${3000}
    ${1}     | ${3000} | ${1000}  | ${1000}
  `('$failures failures, short $shortMs, normal $normalMs -> $expected', ({ failures, shortMs, normalMs, expected }) => {
    expect(recoveryTimeoutMs(failures, shortMs, normalMs)).toBe(expected);
  });
});
