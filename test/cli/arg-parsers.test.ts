import { InvalidArgumentError } from 'commander';
import { parseDuration, parseJobTtl, parseSize, parseSplit, parseTime, parseTokenTtl, resolveTime } from '../../src/cli/arg-parsers';
import { grantWindow } from '../../src/cli/commands/grant';
import { UsageError } from '../../src/cli/cli-error';

describe('durations', () => {
  it.each([
    ['30d', 30 * 86400],
    ['+30d', 30 * 86400],
    ['12h', 43200],
    ['+12h', 43200],
    ['90s', 90],
    ['45m', 2700],
    ['1d12h', 129600],
    ['2w', 1209600],
  ])('%s is %i seconds', (text, seconds) => {
    expect(parseDuration(text)).toBe(seconds);
  });

  it.each(['', '12', '1y', 'h', '-1h', '1.5h', '0h', 'twelve hours', '1h 30m'])('refuses %j without a bare-seconds allowance', (text) => {
    expect(() => parseDuration(text)).toThrow(InvalidArgumentError);
  });

  it('counts a bare integer as seconds where a TTL allows it', () => {
    expect(parseTokenTtl('3600')).toBe(3600);
    expect(parseJobTtl('3600')).toBe(3600);
    expect(parseJobTtl('1h')).toBe(3600);
  });

  it('keeps a job TTL within the 60 s .. 24 h the API accepts', () => {
    expect(parseJobTtl('60')).toBe(60);
    expect(parseJobTtl('24h')).toBe(86400);
    expect(() => parseJobTtl('59')).toThrow(/between 60 s and 24 h/);
    expect(() => parseJobTtl('25h')).toThrow(/between 60 s and 24 h/);
    expect(() => parseJobTtl('0')).toThrow(InvalidArgumentError);
  });
});

describe('sizes', () => {
  it.each([
    ['1024', 1024],
    ['10GiB', 10 * 2 ** 30],
    ['10gib', 10 * 2 ** 30],
    ['500MB', 500_000_000],
    ['1.5KiB', 1536],
    ['2 TB', 2e12],
    ['7B', 7],
  ])('%s is %i bytes', (text, bytes) => {
    expect(parseSize(text)).toBe(bytes);
  });

  it.each(['', 'GiB', '10XB', '-5MB', '0', '0.1B', '1e3', '10 G i B', '99999999PiB'])('refuses %j', (text) => {
    expect(() => parseSize(text)).toThrow(InvalidArgumentError);
  });
});

describe('times', () => {
  const base = new Date('2025-06-01T00:00:00Z');

  it('takes now, ISO dates and zoned date-times, and durations after a base', () => {
    expect(resolveTime(parseTime('now'), base)).toEqual(base);
    expect(resolveTime(parseTime('2025-07-04'), base).toISOString()).toBe('2025-07-04T00:00:00.000Z');
    expect(resolveTime(parseTime('2025-07-04T10:30:00Z'), base).toISOString()).toBe('2025-07-04T10:30:00.000Z');
    expect(resolveTime(parseTime('2025-07-04T10:30:00+02:00'), base).toISOString()).toBe('2025-07-04T08:30:00.000Z');
    expect(resolveTime(parseTime('2025-07-04T10:30:00.250Z'), base).toISOString()).toBe('2025-07-04T10:30:00.250Z');
    expect(resolveTime(parseTime('+30d'), base).toISOString()).toBe('2025-07-01T00:00:00.000Z');
    expect(resolveTime(parseTime('12h'), base).toISOString()).toBe('2025-06-01T12:00:00.000Z');
  });

  it('refuses a date-time without a zone rather than guess local time', () => {
    expect(() => parseTime('2025-07-04T10:30')).toThrow(/time zone/);
  });

  it.each(['2025-02-30', '2025-13-01', '2025-06-01T24:00:00Z', 'tomorrow', '06/01/2025', '+', ''])('refuses %j', (text) => {
    expect(() => parseTime(text)).toThrow(InvalidArgumentError);
  });

  it('counts a relative --until from --from, and refuses an empty window', () => {
    expect(grantWindow(parseTime('2025-06-10'), parseTime('+30d'), base)).toEqual({
      notBefore: '2025-06-10T00:00:00.000Z',
      notAfter: '2025-07-10T00:00:00.000Z',
    });
    expect(grantWindow(parseTime('now'), parseTime('+12h'), base)).toEqual({
      notBefore: '2025-06-01T00:00:00.000Z',
      notAfter: '2025-06-01T12:00:00.000Z',
    });
    expect(() => grantWindow(parseTime('2025-06-10'), parseTime('2025-06-09'), base)).toThrow(UsageError);
    expect(() => grantWindow(parseTime('2025-06-10'), parseTime('2025-06-10'), base)).toThrow(UsageError);
  });
});

describe('split specs', () => {
  it('parses name:kind:prefix, keeping colons in the prefix', () => {
    expect(parseSplit('train:train:train/')).toEqual({ name: 'train', kind: 'train', prefix: 'train/' });
    expect(parseSplit('gt:labels:labels/v1:final/')).toEqual({ name: 'gt', kind: 'labels', prefix: 'labels/v1:final/' });
  });

  it.each([
    ['train', /name:kind:prefix/],
    ['train:train', /name:kind:prefix/],
    [':train:train/', /name is empty/],
    ['train:training:train/', /not one of train, val, test, labels/],
    ['train:train:', /prefix is empty/],
  ])('refuses %j', (text, why) => {
    expect(() => parseSplit(text)).toThrow(why);
  });
});
