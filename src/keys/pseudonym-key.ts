import { createHash, randomBytes } from 'node:crypto';
import { chmodSync, existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { KeyError } from './signing-keys';

/** Where the gateway reads the pseudonym key: CAGE_PSEUDONYM_KEY_FILE, else the data dir. */
export function pseudonymKeyPath(opts: { file?: string; dataDir: string }): string {
  return opts.file ?? join(opts.dataDir, 'keys', 'pseudonym-key');
}

/**
 * The re-identification key: what seals the originals behind the pseudonyms and keys the HMAC
 * that finds them. Its own key, not derived from the token-signing key: rotating the signing key
 * must not change every pseudonym nor lose the originals, and a leak of the online signing key
 * must not expose them. Production: CAGE_PSEUDONYM_KEY_FILE (32 random bytes, base64), ideally
 * from a secret store; otherwise generated under the data dir (mode 0600) on first use.
 */
export function loadPseudonymKey(opts: { file?: string; dataDir: string }): Buffer {
  const file = pseudonymKeyPath(opts);
  if (!existsSync(file)) {
    if (opts.file !== undefined) throw new KeyError(`CAGE_PSEUDONYM_KEY_FILE: ${opts.file} does not exist`);
    mkdirSync(dirname(file), { recursive: true, mode: 0o700 });
    writeFileSync(file, randomBytes(32).toString('base64') + '\n', { mode: 0o600, flag: 'wx' });
  }
  return readPseudonymKey(file);
}

/** Reads and checks a pseudonym key file (32 bytes, base64); never creates one. */
export function readPseudonymKey(file: string): Buffer {
  if (!existsSync(file)) throw new KeyError(`${file} does not exist`);
  const key = Buffer.from(readFileSync(file, 'utf8').trim(), 'base64');
  if (key.length !== 32) throw new KeyError(`${file}: the pseudonym key must be 32 bytes, base64`);
  return key;
}

/**
 * What an operator compares to tell two copies of the key apart without showing it: 16 bytes of
 * a domain-separated SHA-256, in groups of four hex digits.
 */
export function pseudonymKeyFingerprint(key: Buffer): string {
  const h = createHash('sha256').update('cage pseudonym-key fingerprint v1\n').update(key).digest('hex').slice(0, 32);
  return `sha256:${h.match(/.{4}/g)!.join('-')}`;
}

/**
 * Writes a pseudonym key file (mode 0600, its directory 0700, replaced atomically). A file that
 * holds a different key is kept unless `force`: overwriting the key the database's pseudonyms
 * were made with loses the originals and gives re-ingested data new pseudonyms.
 */
export function writePseudonymKey(file: string, key: Buffer, force: boolean): 'written' | 'unchanged' {
  if (existsSync(file)) {
    let existing: Buffer | undefined;
    try {
      existing = readPseudonymKey(file);
    } catch {
      existing = undefined; // not a key at all: replacing it needs --force too
    }
    if (existing?.equals(key) === true) {
      chmodSync(file, 0o600);
      return 'unchanged';
    }
    if (!force) {
      throw new PseudonymKeyConflict(
        `${file} already holds ${existing === undefined ? 'something that is not a pseudonym key' : `a different pseudonym key (${pseudonymKeyFingerprint(existing)})`}; --force replaces it`,
      );
    }
  }
  mkdirSync(dirname(file), { recursive: true, mode: 0o700 });
  const tmp = join(dirname(file), `.${basename(file)}.${process.pid}.tmp`);
  writeFileSync(tmp, `${key.toString('base64')}\n`, { mode: 0o600, flag: 'w' });
  chmodSync(tmp, 0o600);
  renameSync(tmp, file);
  return 'written';
}

/** A write refused because the file holds a different key. */
export class PseudonymKeyConflict extends KeyError {}
