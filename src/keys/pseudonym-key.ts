import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { KeyError } from './signing-keys';

/**
 * The re-identification key: what seals the originals behind the pseudonyms and keys the HMAC
 * that finds them. Its own key, not derived from the token-signing key: rotating the signing key
 * must not change every pseudonym nor lose the originals, and a leak of the online signing key
 * must not expose them. Production: CAGE_PSEUDONYM_KEY_FILE (32 random bytes, base64), ideally
 * from a secret store; otherwise generated under the data dir (mode 0600) on first use.
 */
export function loadPseudonymKey(opts: { file?: string; dataDir: string }): Buffer {
  const file = opts.file ?? join(opts.dataDir, 'keys', 'pseudonym-key');
  if (!existsSync(file)) {
    if (opts.file !== undefined) throw new KeyError(`CAGE_PSEUDONYM_KEY_FILE: ${opts.file} does not exist`);
    mkdirSync(dirname(file), { recursive: true, mode: 0o700 });
    writeFileSync(file, randomBytes(32).toString('base64') + '\n', { mode: 0o600, flag: 'wx' });
  }
  const key = Buffer.from(readFileSync(file, 'utf8').trim(), 'base64');
  if (key.length !== 32) throw new KeyError(`${file}: the pseudonym key must be 32 bytes, base64`);
  return key;
}
