/** Drops entries older than maxAgeMs: the short-lived caches in front of the database stay bounded. */
export function pruneOlderThan<K, V extends { at: number }>(cache: Map<K, V>, maxAgeMs: number): void {
  const cutoff = Date.now() - maxAgeMs;
  for (const [k, v] of cache) if (v.at < cutoff) cache.delete(k);
}
