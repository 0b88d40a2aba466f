import { type Split } from '../datasets/dataset.repository';
import { AFTER_PREFIX, type IndexedObject, type KeySource, type ListQuery, pageOfSplits } from './listing';

/** A source over sorted keys (UTF-8 byte order), counting the keys it hands out. */
function source(keys: string[]): { read: KeySource; handedOut: () => number } {
  const sorted = [...keys].sort((a, b) => Buffer.compare(Buffer.from(a), Buffer.from(b)));
  let handed = 0;
  return {
    read: (prefix, startAfter, max) => {
      const after = sorted.filter(
        (k) => k.startsWith(prefix) && (startAfter === undefined || Buffer.compare(Buffer.from(k), Buffer.from(startAfter)) > 0),
      );
      const objects: IndexedObject[] = after.slice(0, max).map((key) => ({ key, size: key.length, etag: 'e', lastModified: undefined }));
      handed += objects.length;
      return Promise.resolve({ objects, truncated: after.length > max });
    },
    handedOut: () => handed,
  };
}

const SPLITS: Split[] = [
  { name: 'train', kind: 'train', prefix: 'train/' },
  { name: 'test', kind: 'test', prefix: 'test/' },
  { name: 'labels', kind: 'labels', prefix: 'labels/' },
];
const splitOf = (key: string) => SPLITS.find((s) => key.startsWith(s.prefix));

/** Every page of a query, following the cursor. */
async function all(
  allowed: Split[],
  keys: string[],
  q: Omit<ListQuery, 'cursor'>,
): Promise<{ keys: string[]; prefixes: string[]; pages: number }> {
  const src = source(keys);
  const out = { keys: [] as string[], prefixes: [] as string[], pages: 0 };
  let cursor: string | undefined;
  do {
    const page = await pageOfSplits(allowed, splitOf, { ...q, cursor }, src.read);
    out.keys.push(...page.objects.map((o) => o.key));
    out.prefixes.push(...page.commonPrefixes);
    out.pages += 1;
    cursor = page.nextCursor ?? undefined;
    if (out.pages > 1000) throw new Error('the cursor does not advance');
  } while (cursor !== undefined);
  return out;
}

describe('pageOfSplits', () => {
  const keys = ['train/', 'train/a', 'train/b/1', 'train/b/2', 'train/c', 'test/x', 'labels/secret.csv', 'stray', 'trainee/z'];

  it('lists each granted key once, in order, at every page size', async () => {
    for (const limit of [1, 2, 3, 1000]) {
      const r = await all([SPLITS[0]], keys, { prefix: '', limit });
      expect(r.keys).toEqual(['train/', 'train/a', 'train/b/1', 'train/b/2', 'train/c']);
    }
  });

  it('should not loop on a key equal to the split prefix (an S3 folder marker)', async () => {
    const r = await all([SPLITS[0]], keys, { prefix: 'train/', limit: 1 });
    expect(r.keys).toEqual(['train/', 'train/a', 'train/b/1', 'train/b/2', 'train/c']);
  });

  it('should not list a key outside the granted splits, whatever the prefix or delimiter', async () => {
    for (const prefix of ['', 't', 'tr', 'train', 'train/', 'l', 'labels/', 'te', 'stray']) {
      for (const delimiter of [undefined, '/', 'a', 's']) {
        for (const limit of [1, 2, 1000]) {
          const r = await all([SPLITS[0], SPLITS[1]], keys, { prefix, limit, delimiter });
          for (const k of [...r.keys, ...r.prefixes])
            expect(k.startsWith('labels/') || k === 'stray' || k.startsWith('trainee')).toBe(false);
        }
      }
    }
  });

  it('rolls keys up under a delimiter and jumps past them', async () => {
    const r = await all([SPLITS[0]], keys, { prefix: 'train/', limit: 1, delimiter: '/' });
    expect(r.keys).toEqual(['train/', 'train/a', 'train/c']);
    expect(r.prefixes).toEqual(['train/b/']);
    expect(AFTER_PREFIX.codePointAt(0)).toBe(0x10ffff);
  });

  it('reads about the page from its source, not the dataset', async () => {
    const many = Array.from({ length: 10_000 }, (_, i) => `train/k-${String(i).padStart(5, '0')}`);
    const src = source(many);
    const page = await pageOfSplits([SPLITS[0]], splitOf, { prefix: '', limit: 10, cursor: undefined }, src.read);
    expect(page.objects).toHaveLength(10);
    expect(src.handedOut()).toBeLessThanOrEqual(11);
  });
});
