import { createHash, generateKeyPairSync, type KeyObject, sign } from 'node:crypto';
import {
  type Checkpoint,
  CheckpointError,
  type CheckpointErrorCode,
  checkpointBody,
  keyId,
  openCheckpoint,
  openNote,
  parseVerifierKey,
  rawPublicKey,
  signCheckpoint,
  signNote,
  verifierKey,
} from './checkpoint';

const ORIGIN = 'cage.example.org/audit';

function keyPair(): { privateKey: KeyObject; publicKey: Buffer } {
  const { privateKey, publicKey } = generateKeyPairSync('ed25519');
  return { privateKey, publicKey: rawPublicKey(publicKey) };
}

/** Asserts that `f` throws a CheckpointError with this code (and returns its message). */
function errorOf(f: () => unknown, code: CheckpointErrorCode): string {
  try {
    f();
  } catch (err) {
    expect(err).toBeInstanceOf(CheckpointError);
    expect((err as CheckpointError).code).toBe(code);
    return (err as Error).message;
  }
  throw new Error(`expected a CheckpointError ${code}`);
}

/** A note over arbitrary text, correctly signed: for bodies signNote would refuse to make. */
function rawSigned(text: string, name: string, k: { privateKey: KeyObject; publicKey: Buffer }): string {
  const sig = sign(null, Buffer.from(text, 'utf8'), k.privateKey);
  return `${text}\n\u2014 ${name} ${Buffer.concat([keyId(name, k.publicKey), sig]).toString('base64')}\n`;
}

const root = createHash('sha256').update('root').digest();
const checkpoint: Checkpoint = { origin: ORIGIN, size: 1234567, rootHash: root };

describe('checkpoints (C2SP tlog-checkpoint in a signed note)', () => {
  const gateway = keyPair();
  const other = keyPair();
  const verifier = verifierKey(ORIGIN, gateway.publicKey);

  it('has the tlog-checkpoint body and the signed-note signature line', () => {
    expect(checkpointBody(checkpoint)).toBe(`${ORIGIN}\n1234567\n${root.toString('base64')}\n`);
    const note = signCheckpoint(checkpoint, ORIGIN, gateway.privateKey);
    const lines = note.split('\n');
    expect(lines.slice(0, 4)).toEqual([ORIGIN, '1234567', root.toString('base64'), '']);
    expect(lines[4]).toMatch(new RegExp(`^\u2014 ${ORIGIN.replace(/\./g, '\\.')} [A-Za-z0-9+/]+=*$`));
    expect(lines[5]).toBe('');
    expect(lines).toHaveLength(6);
    const sig = Buffer.from(lines[4].split(' ')[2], 'base64');
    expect(sig).toHaveLength(68);
    expect(sig.subarray(0, 4).equals(keyId(ORIGIN, gateway.publicKey))).toBe(true);
  });

  it('round-trips: sign then open', () => {
    const opened = openCheckpoint(signCheckpoint(checkpoint, ORIGIN, gateway.privateKey), verifier);
    expect(opened.origin).toBe(ORIGIN);
    expect(opened.size).toBe(1234567);
    expect(opened.rootHash.equals(root)).toBe(true);
    const empty = openCheckpoint(
      signCheckpoint({ origin: ORIGIN, size: 0, rootHash: createHash('sha256').digest() }, ORIGIN, gateway.privateKey),
      verifier,
    );
    expect(empty.size).toBe(0);
  });

  it('ignores signatures by other keys, and finds its own among them', () => {
    const mine = signCheckpoint(checkpoint, ORIGIN, gateway.privateKey);
    const theirs = signCheckpoint(checkpoint, 'witness.example', other.privateKey);
    const cosigned = mine + theirs.slice(theirs.indexOf('\n\n') + 2);
    expect(openCheckpoint(cosigned, verifier).size).toBe(1234567);
    expect(openCheckpoint(cosigned, verifierKey('witness.example', other.publicKey)).size).toBe(1234567);
  });

  it('a note re-signed with another key: no signature by this key', () => {
    // Same name, another key: the key id differs.
    const forged = signCheckpoint(checkpoint, ORIGIN, other.privateKey);
    expect(errorOf(() => openCheckpoint(forged, verifier), 'no-signature')).toMatch(
      /no signature by cage\.example\.org\/audit\+[0-9a-f]{8}.*with key id/,
    );
    // Another name.
    expect(errorOf(() => openCheckpoint(signCheckpoint(checkpoint, 'someone', other.privateKey), verifier), 'no-signature')).toMatch(
      /no signature by/,
    );
  });

  it('a signature line with the right name and key id but another key’s signature: bad signature', () => {
    const note = signCheckpoint(checkpoint, ORIGIN, gateway.privateKey);
    const otherSig = sign(null, Buffer.from(checkpointBody(checkpoint)), other.privateKey);
    const bad = `${checkpointBody(checkpoint)}\n\u2014 ${ORIGIN} ${Buffer.concat([keyId(ORIGIN, gateway.publicKey), otherSig]).toString('base64')}\n`;
    expect(note).not.toBe(bad);
    expect(errorOf(() => openCheckpoint(bad, verifier), 'bad-signature')).toMatch(/does not verify/);
  });

  it('a changed size or root fails', () => {
    const note = signCheckpoint(checkpoint, ORIGIN, gateway.privateKey);
    errorOf(() => openCheckpoint(note.replace('\n1234567\n', '\n1234568\n'), verifier), 'bad-signature');
    errorOf(() => openCheckpoint(note.replace('\n1234567\n', '\n123456\n'), verifier), 'bad-signature');
    const otherRoot = createHash('sha256').update('other').digest().toString('base64');
    errorOf(() => openCheckpoint(note.replace(root.toString('base64'), otherRoot), verifier), 'bad-signature');
    errorOf(() => openCheckpoint(note.replace(ORIGIN, 'evil.example'), verifier), 'bad-signature');
    // A flipped bit anywhere in the signature.
    const line = note.split('\n')[4];
    const sig = Buffer.from(line.split(' ')[2], 'base64');
    sig[40] ^= 1;
    errorOf(() => openCheckpoint(note.replace(line, `\u2014 ${ORIGIN} ${sig.toString('base64')}`), verifier), 'bad-signature');
  });

  it('validly signed but malformed bodies are refused with what is wrong', () => {
    const b64 = root.toString('base64');
    const open = (text: string): Checkpoint => openCheckpoint(rawSigned(text, ORIGIN, gateway), verifier);
    expect(errorOf(() => open(`${ORIGIN}\n0012\n${b64}\n`), 'bad-size')).toMatch(/not a decimal/);
    errorOf(() => open(`${ORIGIN}\n-1\n${b64}\n`), 'bad-size');
    errorOf(() => open(`${ORIGIN}\n1e3\n${b64}\n`), 'bad-size');
    errorOf(() => open(`${ORIGIN}\n 12\n${b64}\n`), 'bad-size');
    expect(errorOf(() => open(`${ORIGIN}\n99999999999999999999\n${b64}\n`), 'bad-size')).toMatch(/too large/);
    expect(errorOf(() => open(`${ORIGIN}\n12\n${root.subarray(0, 31).toString('base64')}\n`), 'bad-root')).toMatch(/32 bytes/);
    errorOf(() => open(`${ORIGIN}\n12\n${root.toString('hex')}\n`), 'bad-root');
    errorOf(() => open(`${ORIGIN}\n12\n${root.toString('base64url')}\n`), 'bad-root');
    errorOf(() => open(`${ORIGIN}\n12\n${b64.slice(0, -1)}\n`), 'bad-root');
    errorOf(() => open(`${ORIGIN} \n12\n${b64}\n`), 'bad-origin');
    errorOf(() => open(`${ORIGIN}\n12\n`), 'bad-format');
    // Extension lines are signed, allowed and ignored.
    const withExt = open(`${ORIGIN}\n12\n${b64}\n— extension line\n`);
    expect(withExt).toEqual({ origin: ORIGIN, size: 12, rootHash: root });
  });

  it('refuses what is not a signed note', () => {
    const note = signCheckpoint(checkpoint, ORIGIN, gateway.privateKey);
    errorOf(() => openCheckpoint(note.slice(0, -1), verifier), 'bad-format'); // no final newline
    errorOf(() => openCheckpoint(note.replace('\n\n', '\n'), verifier), 'bad-format'); // no blank line
    errorOf(() => openCheckpoint(checkpointBody(checkpoint) + '\n', verifier), 'bad-format'); // no signatures
    errorOf(() => openCheckpoint(note.replace('\u2014 ', '-- '), verifier), 'bad-format');
    errorOf(() => openCheckpoint(note.replace('\u2014 ', '\u2014  '), verifier), 'bad-format');
    errorOf(() => openCheckpoint(note + '\n', verifier), 'bad-format');
    errorOf(() => openCheckpoint(note.replace('\n1234567', '\r\n1234567'), verifier), 'bad-format');
    errorOf(() => openCheckpoint(note + `\u2014 ${ORIGIN} !!!\n`, verifier), 'bad-format');
    errorOf(() => openCheckpoint(note + `\u2014 ${ORIGIN} AAAA\n`, verifier), 'bad-format'); // < 5 bytes
  });

  it('refuses to sign what it could not open', () => {
    errorOf(() => signCheckpoint({ ...checkpoint, origin: '' }, ORIGIN, gateway.privateKey), 'bad-origin');
    errorOf(() => signCheckpoint({ ...checkpoint, origin: 'a\nb' }, ORIGIN, gateway.privateKey), 'bad-origin');
    errorOf(() => signCheckpoint({ ...checkpoint, origin: 'trailing ' }, ORIGIN, gateway.privateKey), 'bad-origin');
    errorOf(() => signCheckpoint({ ...checkpoint, size: -1 }, ORIGIN, gateway.privateKey), 'bad-size');
    errorOf(() => signCheckpoint({ ...checkpoint, size: 1.5 }, ORIGIN, gateway.privateKey), 'bad-size');
    errorOf(() => signCheckpoint({ ...checkpoint, rootHash: Buffer.alloc(20) }, ORIGIN, gateway.privateKey), 'bad-root');
    errorOf(() => signCheckpoint(checkpoint, 'has space', gateway.privateKey), 'bad-format');
    errorOf(() => signCheckpoint(checkpoint, 'a+b', gateway.privateKey), 'bad-format');
    expect(() => signCheckpoint(checkpoint, ORIGIN, generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey)).toThrow(/Ed25519/);
  });
});

describe('verifier keys', () => {
  it('keyId is the first 4 bytes of SHA-256(name ‖ 0x0A ‖ 0x01 ‖ key)', () => {
    const pub = Buffer.from('1a5cd907143c384c41e830c5bce12aa8817ec5649aaabf2c31388b35b2d744d6', 'hex');
    const expected = createHash('sha256')
      .update(Buffer.concat([Buffer.from('PeterNeumann', 'utf8'), Buffer.from([0x0a]), Buffer.from([0x01]), pub]))
      .digest()
      .subarray(0, 4);
    expect(keyId('PeterNeumann', pub).toString('hex')).toBe(expected.toString('hex'));
    // The known answer of golang.org/x/mod/sumdb/note's documentation.
    expect(keyId('PeterNeumann', pub).toString('hex')).toBe('c74f20a3');
    expect(verifierKey('PeterNeumann', pub)).toBe('PeterNeumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW');
  });

  it('opens the signed-note example of golang.org/x/mod/sumdb/note (known answer)', () => {
    const text = "If you think cryptography is the answer to your problem,\nthen you don't know what your problem is.\n";
    const note = `${text}\n\u2014 PeterNeumann x08go/ZJkuBS9UG/SffcvIAQxVBtiFupLLr8pAcElZInNIuGUgYN1FFYC2pZSNXgKvqfqdngotpRZb6KE6RyyBwJnAM=\n`;
    const verifier = 'PeterNeumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW';
    expect(openNote(note, verifier)).toBe(text);
    errorOf(() => openNote(note.replace('problem is', 'problem was'), verifier), 'bad-signature');
  });

  it('signNote signs the text bytes; openNote returns them', () => {
    const k = keyPair();
    const text = 'line one\nline two\n';
    const note = signNote(text, 'someone', k.privateKey);
    expect(note).toBe(rawSigned(text, 'someone', k));
    expect(openNote(note, verifierKey('someone', k.publicKey))).toBe(text);
    errorOf(() => signNote('no newline', 'someone', k.privateKey), 'bad-format');
    errorOf(() => signNote('a\n\nb\n', 'someone', k.privateKey), 'bad-format');
  });

  it('round-trips through text', () => {
    const { publicKey } = keyPair();
    const text = verifierKey(ORIGIN, publicKey);
    expect(text).toMatch(/^cage\.example\.org\/audit\+[0-9a-f]{8}\+[A-Za-z0-9+/]{44}$/);
    const parsed = parseVerifierKey(text);
    expect(parsed.name).toBe(ORIGIN);
    expect(parsed.publicKey.equals(publicKey)).toBe(true);
    expect(parsed.keyId.equals(keyId(ORIGIN, publicKey))).toBe(true);
    expect(parseVerifierKey(`${text}\n`).name).toBe(ORIGIN);
  });

  it('refuses malformed verifier keys clearly', () => {
    const { publicKey } = keyPair();
    const good = verifierKey(ORIGIN, publicKey);
    // Split on the first two '+' only: base64 key material may itself contain '+'.
    const [name, id] = good.split('+') as [string, string];
    const key = good.slice(name.length + id.length + 2);
    expect(errorOf(() => parseVerifierKey(`${name}+${id}`), 'bad-verifier-key')).toMatch(/<name>\+<key id>\+<key>/);
    expect(errorOf(() => parseVerifierKey(`${name}+00000000+${key}`), 'bad-verifier-key')).toMatch(/does not match/);
    expect(errorOf(() => parseVerifierKey(`${name}+${id.slice(1)}+${key}`), 'bad-verifier-key')).toMatch(/8 hex/);
    expect(errorOf(() => parseVerifierKey(`+${id}+${key}`), 'bad-verifier-key')).toMatch(/name/);
    const ecdsa = Buffer.concat([Buffer.from([0x02]), publicKey]).toString('base64');
    expect(errorOf(() => parseVerifierKey(`${name}+${id}+${ecdsa}`), 'bad-verifier-key')).toMatch(/Ed25519/);
    const short = Buffer.concat([Buffer.from([0x01]), publicKey.subarray(1)]).toString('base64');
    expect(errorOf(() => parseVerifierKey(`${name}+${id}+${short}`), 'bad-verifier-key')).toMatch(/32 bytes/);
    expect(errorOf(() => parseVerifierKey(`${name}+${id}+not base64!`), 'bad-verifier-key')).toMatch(/base64/);
  });
});
