import { BadKeyError, decodePathSegment, validateDatasetId, validateObjectKey } from './object-key';

describe('object keys', () => {
  it('decodes percent-encoding exactly once', () => {
    expect(decodePathSegment('train/a%20b.mhd', 'key')).toBe('train/a b.mhd');
    expect(decodePathSegment('a%2541', 'key')).toBe('a%41');
    expect(decodePathSegment('caf%C3%A9', 'key')).toBe('café');
  });

  it('keeps keys opaque: double slashes and NFD spellings stay as sent', () => {
    expect(validateObjectKey(decodePathSegment('a//b', 'key'))).toBe('a//b');
    expect(decodePathSegment('cafe%CC%81', 'key')).not.toBe(decodePathSegment('caf%C3%A9', 'key'));
  });

  it.each(['a%2', 'a%zz', 'a%', 'a%C3', 'a%FF', 'a b'])('should not accept the raw path %s', (raw) =>
    expect(() => decodePathSegment(raw, 'key')).toThrow(BadKeyError),
  );

  it.each(['', 'a\u0000b', 'a\nb', 'a\u007fb', 'train/../labels/x', './x', 'a/./b', '..', 'x'.repeat(1025)])(
    'should not accept the key %j',
    (k) => expect(() => validateObjectKey(k)).toThrow(BadKeyError),
  );

  it('should not accept a dataset id that is not a slug', () => {
    expect(validateDatasetId('lung-demo')).toBe('lung-demo');
    for (const bad of ['', 'Lung', 'a/b', '-a', 'a'.repeat(64), '..']) expect(() => validateDatasetId(bad)).toThrow(BadKeyError);
  });
});
