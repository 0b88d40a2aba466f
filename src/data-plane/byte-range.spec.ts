import { BadRangeError, etagMatches, parseRange, resolveRange } from './byte-range';

describe('parseRange', () => {
  it('parses the three single-range forms', () => {
    expect(parseRange(undefined)).toBeUndefined();
    expect(parseRange('bytes=0-99')).toEqual({ kind: 'from', start: 0, end: 99 });
    expect(parseRange('bytes=100-')).toEqual({ kind: 'from', start: 100 });
    expect(parseRange('bytes=-500')).toEqual({ kind: 'suffix', length: 500 });
  });

  it.each([
    'bytes=0-1,5-6',
    'bytes=5-2',
    'items=0-1',
    'bytes=',
    'bytes=-',
    'bytes=-0',
    'bytes=a-b',
    'bytes=0x1-2',
    'bytes=1e3-',
    'bytes=-1.5',
    '0-1',
  ])('should not accept %s', (h) => expect(() => parseRange(h)).toThrow(BadRangeError));
});

describe('resolveRange', () => {
  it('clamps and resolves against the size', () => {
    expect(resolveRange({ kind: 'from', start: 0, end: 99 }, 50)).toEqual({ start: 0, end: 49 });
    expect(resolveRange({ kind: 'suffix', length: 10 }, 50)).toEqual({ start: 40, end: 49 });
    expect(resolveRange({ kind: 'suffix', length: 100 }, 50)).toEqual({ start: 0, end: 49 });
    expect(resolveRange({ kind: 'from', start: 50 }, 50)).toBeUndefined();
    expect(resolveRange({ kind: 'suffix', length: 1 }, 0)).toBeUndefined();
  });
});

describe('etagMatches', () => {
  it('matches strong tags for If-Match and weakly for If-None-Match', () => {
    expect(etagMatches('"a", "b"', '"b"', false)).toBe(true);
    expect(etagMatches('W/"b"', '"b"', false)).toBe(false);
    expect(etagMatches('W/"b"', '"b"', true)).toBe(true);
    expect(etagMatches('*', '"x"', false)).toBe(true);
    expect(etagMatches('"c"', '"b"', true)).toBe(false);
  });
});
