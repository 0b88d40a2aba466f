/**
 * The one short-lived cache in front of the database (grants, jobs, manifests, datasets, OIDC
 * issuers): entries live `ttlMs`, misses can be cached like hits (so an unknown key costs the same
 * as a known one), and the cache never holds more than `maxEntries` — expired entries go first,
 * then the oldest, so a flood of fresh keys cannot grow it without bound.
 */
export class TtlCache<K, V> {
  private readonly entries = new Map<K, { at: number; value: V }>();

  constructor(
    private readonly ttlMs: number,
    private readonly maxEntries = 10_000,
    private readonly now: () => number = Date.now,
  ) {}

  /** The value cached for key if it is still fresh (`undefined` may be a cached miss: see has). */
  get(key: K): { value: V } | undefined {
    const e = this.entries.get(key);
    if (e === undefined) return undefined;
    if (this.now() - e.at >= this.ttlMs) {
      this.entries.delete(key);
      return undefined;
    }
    return { value: e.value };
  }

  set(key: K, value: V): void {
    this.entries.delete(key);
    if (this.entries.size >= this.maxEntries) {
      // Entries sit in the order they were set (set re-inserts), so the expired ones come first:
      // the walk stops at the first fresh one instead of reading all of them on every miss.
      const cutoff = this.now() - this.ttlMs;
      for (const [k, e] of this.entries) {
        if (e.at > cutoff) break;
        this.entries.delete(k);
      }
      for (const k of this.entries.keys()) {
        if (this.entries.size < this.maxEntries) break;
        this.entries.delete(k);
      }
    }
    this.entries.set(key, { at: this.now(), value });
  }

  /** Reads through the cache: a fresh entry, or `load()` cached. */
  async through(key: K, load: () => Promise<V>): Promise<V> {
    const hit = this.get(key);
    if (hit !== undefined) return hit.value;
    const value = await load();
    this.set(key, value);
    return value;
  }

  delete(key: K): void {
    this.entries.delete(key);
  }

  clear(): void {
    this.entries.clear();
  }

  get size(): number {
    return this.entries.size;
  }
}
