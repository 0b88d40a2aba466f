import { type Dataset, DatasetLayoutError, splitOf, validateLayout } from './dataset.repository';

const base: Dataset = {
  id: 'lung',
  bucket: 'b',
  prefix: 'lung/',
  title: '',
  splits: [
    { name: 'train', kind: 'train', prefix: 'train/' },
    { name: 'labels', kind: 'labels', prefix: 'labels/' },
  ],
};

describe('dataset layout', () => {
  it('accepts a flat layout and maps keys to their split', () => {
    expect(() => validateLayout(base)).not.toThrow();
    expect(splitOf(base, 'train/x')?.name).toBe('train');
    expect(splitOf(base, 'trainx')).toBeUndefined();
    expect(splitOf(base, '\uFEFFtrain/x')).toBeUndefined();
  });

  it.each([
    ['a nested split prefix', { splits: [...base.splits, { name: 'inner', kind: 'labels' as const, prefix: 'train/labels/' }] }],
    ['a prefix without a trailing slash', { splits: [{ name: 'train', kind: 'train' as const, prefix: 'train' }] }],
    ['an absolute prefix', { splits: [{ name: 'train', kind: 'train' as const, prefix: '/train/' }] }],
    ['a split name with a slash (ambiguous policy ids)', { splits: [{ name: 'b/c', kind: 'train' as const, prefix: 'bc/' }] }],
    ['a dataset id with a slash', { id: 'a/b' }],
    ['a bucket prefix without a trailing slash', { prefix: 'lung' }],
    ['no splits', { splits: [] }],
    ['a split named twice', { splits: [base.splits[0], { ...base.splits[0], prefix: 'other/' }] }],
  ])('should not accept %s', (_what, change) => {
    expect(() => validateLayout({ ...base, ...change })).toThrow(DatasetLayoutError);
  });
});
