import { createHmac } from 'node:crypto';

/**
 * The test scans split into a public part (scored during the competition) and a private part
 * (scored once, at the close), by a secret seed: scans ordered by HMAC-SHA256(seed, seriesuid),
 * the first round(n × fraction) public (at least one scan in each part). Without the seed the
 * split cannot be computed; nothing that depends on it but a score ever leaves.
 */
export function splitScans(seed: Buffer, scans: Iterable<string>, publicFraction: number): { public: Set<string>; private: Set<string> } {
  const ordered = [...new Set(scans)]
    .map((uid) => [createHmac('sha256', seed).update(uid).digest('hex'), uid] as const)
    .sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0))
    .map(([, uid]) => uid);
  if (ordered.length < 2) throw new RangeError('a public and a private part need at least two test scans');
  const k = Math.min(ordered.length - 1, Math.max(1, Math.round(ordered.length * publicFraction)));
  return { public: new Set(ordered.slice(0, k)), private: new Set(ordered.slice(k)) };
}
