import { BadInputError } from '../ops/http-answer';
/**
 * Object keys are opaque bytes: `a/../b`, `a//b` and NFC/NFD spellings are different keys. The
 * key is taken from the raw request path, percent-decoded exactly once, and the resulting string
 * is both what policy decides on and what is sent to the object store; nothing normalizes it.
 */
export class BadKeyError extends BadInputError {}

const MAX_KEY_BYTES = 1024;
// ignoreBOM: a leading U+FEFF is part of the key, not something to strip.
const utf8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

/** Strict percent-decoding: every `%` must start `%XX`; the bytes must be valid UTF-8. */
export function decodePathSegment(raw: string, what: string): string {
  const bytes: number[] = [];
  for (let i = 0; i < raw.length; i++) {
    const c = raw.charCodeAt(i);
    if (c === 0x25) {
      const hex = raw.slice(i + 1, i + 3);
      if (!/^[0-9A-Fa-f]{2}$/.test(hex)) throw new BadKeyError(`${what} has malformed percent-encoding`);
      bytes.push(parseInt(hex, 16));
      i += 2;
    } else if (c > 0x7e || c < 0x21) {
      // A raw request path is ASCII; anything else was not sent by a conforming client.
      throw new BadKeyError(`${what} has a character that must be percent-encoded`);
    } else {
      bytes.push(c);
    }
  }
  try {
    return utf8.decode(new Uint8Array(bytes));
  } catch {
    throw new BadKeyError(`${what} is not valid UTF-8`);
  }
}

/**
 * Validates a decoded object key. Refused: empty, over 1024 bytes, NUL or any control
 * character, and `.`/`..` segments — not because they are traversal here (keys are opaque) but
 * because some S3 servers resolve them, and then the key policy decided on would not be the key
 * the store served.
 */
export function validateObjectKey(key: string): string {
  if (key.length === 0) throw new BadKeyError('object key is empty');
  if (Buffer.byteLength(key, 'utf8') > MAX_KEY_BYTES) throw new BadKeyError(`object key is longer than ${MAX_KEY_BYTES} bytes`);
  // eslint-disable-next-line no-control-regex
  if (/[\u0000-\u001f\u007f-\u009f]/.test(key)) throw new BadKeyError('object key has a control character');
  if (key.split('/').some((s) => s === '.' || s === '..')) throw new BadKeyError('object key has a "." or ".." segment');
  return key;
}

/** Dataset ids are slugs; anything else cannot name a dataset. */
export function validateDatasetId(id: string): string {
  if (!/^[a-z0-9][a-z0-9-]{0,62}$/.test(id)) throw new BadKeyError('dataset id must be a slug: a-z, 0-9 and -, at most 63');
  return id;
}
