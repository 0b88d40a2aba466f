import { KeyedQueue } from './keyed-queue';

describe('KeyedQueue', () => {
  it('runs one key’s tasks one at a time, in order, and other keys’ alongside', async () => {
    const q = new KeyedQueue();
    const events: string[] = [];
    const task = (name: string, ms: number) => () =>
      new Promise<string>((resolve) => {
        events.push(`start ${name}`);
        setTimeout(() => {
          events.push(`end ${name}`);
          resolve(name);
        }, ms);
      });
    const results = await Promise.all([q.run('a', task('a1', 30)), q.run('a', task('a2', 1)), q.run('b', task('b1', 1))]);
    expect(results).toEqual(['a1', 'a2', 'b1']);
    expect(events.indexOf('start a2')).toBeGreaterThan(events.indexOf('end a1'));
    expect(events.indexOf('end b1')).toBeLessThan(events.indexOf('end a1'));
  });

  it('goes on after a task fails', async () => {
    const q = new KeyedQueue();
    await expect(q.run('a', () => Promise.reject(new Error('no')))).rejects.toThrow('no');
    await expect(q.run('a', () => Promise.resolve(1))).resolves.toBe(1);
  });
});
