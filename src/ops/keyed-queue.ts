/**
 * Runs the tasks given for one key one at a time, in order, in this process (tasks of different
 * keys run concurrently). Used where work on one thing must not race with itself locally: the
 * byte-quota charges of one team, the reviews of one artifact. Across replicas the database
 * decides (compare-and-set, row locks, primary keys); this only keeps a replica from racing itself.
 */
export class KeyedQueue {
  private readonly tails = new Map<string, Promise<unknown>>();

  run<T>(key: string, task: () => Promise<T>): Promise<T> {
    const previous = this.tails.get(key) ?? Promise.resolve();
    const next = previous.then(task, task);
    const tail = next.catch(() => undefined);
    this.tails.set(key, tail);
    void tail.then(() => {
      if (this.tails.get(key) === tail) this.tails.delete(key);
    });
    return next;
  }
}
