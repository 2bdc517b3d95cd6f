import fc from 'fast-check';
import { collectPages, ListPage } from './paged-list';

/** An API server's paging of `items` into pages of `limit`, with opaque continue tokens. */
function pager<T>(items: T[], limit: number, resourceVersion = '42') {
  const calls: (string | undefined)[] = [];
  const fetchPage = async (token: string | undefined): Promise<ListPage<T>> => {
    calls.push(token);
    const start = token ? Number(token.slice('after-'.length)) : 0;
    const end = Math.min(items.length, start + limit);
    return { items: items.slice(start, end), metadata: { resourceVersion, continue: end < items.length ? `after-${end}` : '' } };
  };
  return { fetchPage, calls };
}

describe('collectPages', () => {
  it.each([
    { total: 0, limit: 500, pages: 1 },
    { total: 500, limit: 500, pages: 1 },
    { total: 520, limit: 500, pages: 2 },
    { total: 1001, limit: 100, pages: 11 },
  ])('reads $total objects in $pages page(s) of $limit', async ({ total, limit, pages }) => {
    const items = Array.from({ length: total }, (_, i) => i);
    const { fetchPage, calls } = pager(items, limit);
    const out = await collectPages(fetchPage);
    expect(out.items).toEqual(items);
    expect(out.resourceVersion).toBe('42');
    expect(calls).toHaveLength(pages);
    expect(calls[0]).toBeUndefined();
  });

  it('returns every item once, in order, for any size and page size', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(fc.string(), { maxLength: 300 }), fc.integer({ min: 1, max: 50 }), async (items, limit) => {
        const { fetchPage, calls } = pager(items, limit);
        const out = await collectPages(fetchPage);
        expect(out.items).toEqual(items);
        expect(calls).toHaveLength(Math.max(1, Math.ceil(items.length / limit)));
      }),
    );
  });

  it('fails as a whole when a later page fails (an expired continue token)', async () => {
    const { fetchPage } = pager([1, 2, 3], 1);
    let n = 0;
    const failing = (token: string | undefined) => (++n === 2 ? Promise.reject(new Error('HTTP 410: continue token expired')) : fetchPage(token));
    await expect(collectPages(failing)).rejects.toThrow(/410/);
  });
});
