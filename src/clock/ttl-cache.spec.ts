import { TtlCache } from './ttl-cache';

describe('TtlCache', () => {
  let t = 0;
  const now = () => t;

  it('serves an entry until it is ttl old, misses included', async () => {
    t = 0;
    const c = new TtlCache<string, number | undefined>(500, 10, now);
    let loads = 0;
    const load = () => Promise.resolve((loads++, undefined));
    expect(await c.through('k', load)).toBeUndefined();
    t = 499;
    expect(await c.through('k', load)).toBeUndefined();
    expect(loads).toBe(1);
    t = 500;
    await c.through('k', load);
    expect(loads).toBe(2);
  });

  it('never holds more than maxEntries: expired first, then the oldest', () => {
    t = 0;
    const c = new TtlCache<number, number>(100, 3, now);
    c.set(1, 1);
    t = 50;
    c.set(2, 2);
    c.set(3, 3);
    t = 120; // 1 has expired
    c.set(4, 4);
    expect(c.size).toBe(3);
    expect(c.get(1)).toBeUndefined();
    expect(c.get(2)).toEqual({ value: 2 });
    for (let k = 5; k < 1000; k++) c.set(k, k);
    expect(c.size).toBe(3);
    expect(c.get(999)).toEqual({ value: 999 });
  });

  it('forgets a deleted key at once', () => {
    t = 0;
    const c = new TtlCache<string, number>(1000, 10, now);
    c.set('a', 1);
    c.delete('a');
    expect(c.get('a')).toBeUndefined();
  });
});
