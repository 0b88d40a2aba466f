import { InvalidArgumentError } from 'commander';

/*
 * Parsers for flag values. Each runs while commander parses argv, so a bad value is a usage
 * error (exit 2) before any request is sent. They throw commander's InvalidArgumentError, which
 * commander reports as "option '--x <v>' argument 'y' is invalid. <why>".
 */

const UNIT_SECONDS: Record<string, number> = { s: 1, m: 60, h: 3600, d: 86400, w: 604800 };
const DURATION = /^(?:\d+[smhdw])+$/;
const DURATION_PART = /(\d+)([smhdw])/g;
const DURATION_HINT = 'use a number and a unit, e.g. 90s, 30m, 12h, 30d, 1d12h';

/** `30d`, `+12h`, `1h30m`; with `bareSeconds`, a plain integer counts seconds (`3600`). */
export function parseDuration(text: string, bareSeconds = false): number {
  const t = text.trim().replace(/^\+/, '');
  let seconds: number;
  if (/^\d+$/.test(t) && bareSeconds) {
    seconds = Number(t);
  } else if (DURATION.test(t)) {
    seconds = 0;
    for (const [, n, unit] of t.matchAll(DURATION_PART)) seconds += Number(n) * UNIT_SECONDS[unit];
  } else {
    throw new InvalidArgumentError(bareSeconds ? `${DURATION_HINT}, or seconds (3600).` : `${DURATION_HINT}.`);
  }
  if (!Number.isSafeInteger(seconds) || seconds <= 0) throw new InvalidArgumentError('must be longer than 0 seconds.');
  return seconds;
}

/** The job credential lifetime the API accepts: 60 s to 24 h. */
export const JOB_TTL_MIN_S = 60;
export const JOB_TTL_MAX_S = 86400;

export function parseJobTtl(text: string): number {
  const seconds = parseDuration(text, true);
  if (seconds < JOB_TTL_MIN_S || seconds > JOB_TTL_MAX_S) {
    throw new InvalidArgumentError(`a job lives between ${JOB_TTL_MIN_S} s and 24 h (${JOB_TTL_MAX_S} s).`);
  }
  return seconds;
}

export function parseTokenTtl(text: string): number {
  return parseDuration(text, true);
}

const SIZE = /^(\d+(?:\.\d+)?)\s*([a-z]*)$/i;
const SIZE_UNITS: Record<string, number> = {
  '': 1,
  b: 1,
  kb: 1e3,
  mb: 1e6,
  gb: 1e9,
  tb: 1e12,
  pb: 1e15,
  kib: 2 ** 10,
  mib: 2 ** 20,
  gib: 2 ** 30,
  tib: 2 ** 40,
  pib: 2 ** 50,
};

/** Bytes: `1048576`, `500MB` (10^6), `10GiB` (2^30), `1.5TiB`. */
export function parseSize(text: string): number {
  const m = SIZE.exec(text.trim());
  const unit = m === null ? undefined : SIZE_UNITS[m[2].toLowerCase()];
  if (m === null || unit === undefined) {
    throw new InvalidArgumentError('use bytes or a size with a unit: 500MB, 10GiB (B, kB, MB, GB, TB, KiB, MiB, GiB, TiB).');
  }
  const bytes = Number(m[1]) * unit;
  if (!Number.isSafeInteger(bytes)) throw new InvalidArgumentError('must be a whole number of bytes below 2^53.');
  if (bytes <= 0) throw new InvalidArgumentError('must be more than 0 bytes.');
  return bytes;
}

/** A point in time as given on the command line: absolute, or an offset from a base. */
export type TimeSpec = { at: Date } | { after: number };

const ISO = /^(\d{4})-(\d{2})-(\d{2})(?:[T ](\d{2}):(\d{2})(?::(\d{2})(?:\.\d{1,9})?)?(Z|[+-]\d{2}:?\d{2})?)?$/i;

/**
 * `now`, an ISO 8601 date (`2025-06-01`, UTC midnight) or date-time with a zone
 * (`2025-06-01T12:00:00Z`, `…+02:00`), or a duration after a base (`+30d`, `12h`). A date-time
 * without a zone is refused: on an organizer's laptop it would silently mean local time.
 */
export function parseTime(text: string): TimeSpec {
  const t = text.trim();
  if (t.toLowerCase() === 'now') return { after: 0 };
  const m = ISO.exec(t);
  if (m === null) {
    try {
      return { after: parseDuration(t) };
    } catch {
      throw new InvalidArgumentError('use now, an ISO 8601 time (2025-06-01T00:00:00Z, 2025-06-01) or a duration (+30d, +12h).');
    }
  }
  const [, y, mo, d, h, mi, s, zone] = m;
  const daysInMonth = new Date(Date.UTC(Number(y), Number(mo), 0)).getUTCDate();
  const valid =
    Number(mo) >= 1 &&
    Number(mo) <= 12 &&
    Number(d) >= 1 &&
    Number(d) <= daysInMonth &&
    Number(h ?? 0) <= 23 &&
    Number(mi ?? 0) <= 59 &&
    Number(s ?? 0) <= 59;
  if (!valid) throw new InvalidArgumentError('no such date or time.');
  if (h !== undefined && zone === undefined) throw new InvalidArgumentError('add a time zone: Z for UTC, or an offset like +02:00.');
  const iso = h === undefined ? `${y}-${mo}-${d}T00:00:00Z` : t.replace(' ', 'T');
  const at = new Date(iso);
  if (Number.isNaN(at.getTime())) throw new InvalidArgumentError('not a valid ISO 8601 time.');
  return { at };
}

export function resolveTime(spec: TimeSpec, base: Date): Date {
  return 'at' in spec ? spec.at : new Date(base.getTime() + spec.after * 1000);
}

export const SPLIT_KINDS = ['train', 'val', 'test', 'labels'] as const;
export type SplitKind = (typeof SPLIT_KINDS)[number];
export interface SplitSpec {
  name: string;
  kind: SplitKind;
  prefix: string;
}

function isSplitKind(s: string): s is SplitKind {
  return (SPLIT_KINDS as readonly string[]).includes(s);
}

/** `name:kind:prefix`, e.g. `train:train:train/`; the prefix may itself contain colons. */
export function parseSplit(text: string): SplitSpec {
  const first = text.indexOf(':');
  const second = first < 0 ? -1 : text.indexOf(':', first + 1);
  if (second < 0) throw new InvalidArgumentError('use name:kind:prefix, e.g. train:train:train/.');
  const name = text.slice(0, first);
  const kind = text.slice(first + 1, second);
  const prefix = text.slice(second + 1);
  if (name === '') throw new InvalidArgumentError('the split name is empty.');
  if (!isSplitKind(kind)) throw new InvalidArgumentError(`kind "${kind}" is not one of ${SPLIT_KINDS.join(', ')}.`);
  if (prefix === '') throw new InvalidArgumentError('the split prefix is empty.');
  return { name, kind, prefix };
}

/** Commander's accumulator for a repeatable flag. */
export function repeatable<T>(parse: (text: string) => T): (text: string, previous: T[] | undefined) => T[] {
  return (text, previous) => [...(previous ?? []), parse(text)];
}

export function parsePositiveInt(text: string): number {
  if (!/^\d+$/.test(text.trim()) || Number(text) <= 0 || !Number.isSafeInteger(Number(text))) {
    throw new InvalidArgumentError('must be a positive integer.');
  }
  return Number(text);
}

/** `NAME=value`: a variable for a job (`cage run --env`, `cage job launch --env`). */
export function parseEnvAssignment(text: string): string {
  if (!/^[A-Za-z_][A-Za-z0-9_]*=/.test(text)) throw new InvalidArgumentError('use NAME=value.');
  return text;
}
