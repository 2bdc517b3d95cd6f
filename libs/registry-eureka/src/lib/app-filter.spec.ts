import { createAppFilter } from './app-filter';

describe('createAppFilter', () => {
  it.each<[object, string, boolean]>([
    [{}, 'ORDERS', true],
    [{ include: ['orders*'] }, 'ORDERS-API', true],
    [{ include: ['orders*'] }, 'PAYMENTS', false],
    [{ exclude: ['*-canary'] }, 'ORDERS-CANARY', false],
    [{ include: ['orders*'], exclude: ['orders-internal'] }, 'ORDERS-INTERNAL', false],
    [{ include: ['a?c'] }, 'ABC', true],
    [{ include: ['a.c'] }, 'ABC', false],
  ])('%j on %s -> %s', (opts, app, expected) => {
    expect(createAppFilter(opts)(app)).toBe(expected);
  });
});
