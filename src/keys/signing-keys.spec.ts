import { generateKeyPairSync } from 'node:crypto';
import { mkdtempSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { KeyError, SigningKeys } from './signing-keys';
import { seal, unseal } from './secret-box';

describe('SigningKeys', () => {
  it('generates a key into the data dir on first start (0600) and reuses it after', () => {
    const dir = mkdtempSync(join(tmpdir(), 'cage-keys-'));
    const a = SigningKeys.load({ dataDir: dir });
    const file = join(dir, 'keys', 'signing-key.pem');
    expect(statSync(file).mode & 0o777).toBe(0o600);
    const b = SigningKeys.load({ dataDir: dir });
    expect(b.kid).toBe(a.kid);
    expect(b.rawPublicKey()).toEqual(a.rawPublicKey());
  });

  it('loads a key from PEM text or a file in production', () => {
    const pem = generateKeyPairSync('ed25519').privateKey.export({ format: 'pem', type: 'pkcs8' }).toString();
    const dir = mkdtempSync(join(tmpdir(), 'cage-keys-'));
    writeFileSync(join(dir, 'k.pem'), pem);
    expect(SigningKeys.load({ pem, dataDir: dir }).kid).toBe(SigningKeys.load({ file: join(dir, 'k.pem'), dataDir: dir }).kid);
  });

  it('should not accept a key that is not Ed25519, not PEM, or a file that is missing', () => {
    const rsa = generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey.export({ format: 'pem', type: 'pkcs8' }).toString();
    expect(() => SigningKeys.load({ pem: rsa, dataDir: '/nonexistent' })).toThrow(
      /CAGE_SIGNING_KEY: signing key must be an Ed25519 private key/,
    );
    expect(() => SigningKeys.load({ pem: 'hello', dataDir: '/nonexistent' })).toThrow(KeyError);
    expect(() => SigningKeys.load({ file: '/nonexistent/k.pem', dataDir: '/nonexistent' })).toThrow(/does not exist/);
    const pub = generateKeyPairSync('ed25519').publicKey.export({ format: 'pem', type: 'spki' }).toString();
    expect(() => SigningKeys.load({ pem: pub, dataDir: '/nonexistent' })).toThrow(KeyError);
  });

  it('seals secrets so that they open only with the same key and row binding', () => {
    const k = SigningKeys.load({ dataDir: mkdtempSync(join(tmpdir(), 'cage-keys-')) });
    const other = SigningKeys.load({ dataDir: mkdtempSync(join(tmpdir(), 'cage-keys-')) });
    const s = seal(k.sealKey, 'secret-value', 'job:1');
    expect(s).not.toContain('secret-value');
    expect(unseal(k.sealKey, s, 'job:1')).toBe('secret-value');
    expect(() => unseal(k.sealKey, s, 'job:2')).toThrow();
    expect(() => unseal(other.sealKey, s, 'job:1')).toThrow();
  });
});
