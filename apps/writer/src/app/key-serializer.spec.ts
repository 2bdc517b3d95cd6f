import { KeySerializer } from './key-serializer';

const tick = () => new Promise((r) => setImmediate(r));

describe('KeySerializer', () => {
  it('runs one key one at a time, in arrival order, and different keys at once', async () => {
    const s = new KeySerializer<string>();
    const log: string[] = [];
    const gates: Array<() => void> = [];
    const release = () => {
      const gate = gates.shift();
      if (!gate) throw new Error('no job is waiting');
      gate();
    };
    const job = (name: string) => () =>
      new Promise<string>((resolve) => {
        log.push(`start ${name}`);
        gates.push(() => {
          log.push(`end ${name}`);
          resolve(name);
        });
      });
    const a1 = s.run('a', job('a1'));
    const a2 = s.run('a', job('a2'));
    const b1 = s.run('b', job('b1'));
    await tick();
    expect(log).toEqual(['start a1', 'start b1']);
    expect(s.busy('a')).toBe(true);
    release(); // a1 ends
    await tick();
    expect(log).toEqual(['start a1', 'start b1', 'end a1', 'start a2']);
    release(); // b1
    release(); // a2
    expect(await Promise.all([a1, a2, b1])).toEqual(['a1', 'a2', 'b1']);
    expect(s.busy('a')).toBe(false);
    expect(s.busy('b')).toBe(false);
  });

  it('a failed run frees the key for the next', async () => {
    const s = new KeySerializer<number>();
    const failing = s.run('k', async () => {
      throw new Error('boom');
    });
    const next = s.run('k', async () => 2);
    await expect(failing).rejects.toThrow('boom');
    expect(await next).toBe(2);
    expect(s.busy('k')).toBe(false);
  });
});
