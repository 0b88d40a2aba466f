// The audit log's checkpoint, a C2SP signed note (https://c2sp.org/signed-note,
// https://c2sp.org/tlog-checkpoint), verified in the browser with WebCrypto Ed25519.
//
//   <origin>\n<tree size>\n<base64 root hash>\n[extension lines\n]\n— <key name> <base64(key id ‖ signature)>\n
//
// The signed message is the note's body: everything before the blank line, including the body's
// final newline. The verifier key is `<name>+<8 hex key id>+<base64(0x01 ‖ 32-byte Ed25519 key)>`,
// and the key id is the first 4 bytes of SHA-256(<name> ‖ "\n" ‖ 0x01 ‖ key).

import { base64ToBytes, bytesToHex } from './api.js';

const ALG_ED25519 = 0x01;
const EM_DASH = '\u2014';
const utf8 = new TextDecoder('utf-8', { fatal: true });
const enc = new TextEncoder();

export class NoteError extends Error {}

function validKeyName(name) {
  // Non-empty, no whitespace, no '+' (the verifier key's separator).
  return name.length > 0 && !/[\s+]/u.test(name);
}

/** Parses a checkpoint note's bytes; throws NoteError on any malformation. */
export function parseCheckpoint(bytes) {
  let text;
  try {
    text = utf8.decode(bytes);
  } catch {
    throw new NoteError('the checkpoint is not valid UTF-8');
  }
  if (!text.endsWith('\n')) throw new NoteError('the checkpoint does not end with a newline');
  const sep = text.indexOf('\n\n');
  if (sep < 0) throw new NoteError('the checkpoint has no blank line between body and signatures');
  const body = text.slice(0, sep + 1);
  const lines = body.slice(0, -1).split('\n');
  if (lines.length < 3) throw new NoteError('the checkpoint body needs an origin, a tree size and a root hash');
  const [origin, sizeText, rootText] = lines;
  if (origin === '') throw new NoteError('the checkpoint has an empty origin');
  if (!/^(0|[1-9][0-9]*)$/.test(sizeText)) throw new NoteError('the checkpoint’s tree size is not a decimal number');
  let root;
  try {
    root = base64ToBytes(rootText);
  } catch {
    throw new NoteError('the checkpoint’s root hash is not base64');
  }
  if (root.length !== 32) throw new NoteError(`the checkpoint’s root hash is ${root.length} bytes, not 32`);

  const signatures = [];
  for (const line of text.slice(sep + 2, -1).split('\n')) {
    const m = /^\u2014 (\S+) (\S+)$/u.exec(line);
    if (m === null) throw new NoteError(`malformed signature line (expected "${EM_DASH} <key name> <base64>")`);
    let raw;
    try {
      raw = base64ToBytes(m[2]);
    } catch {
      throw new NoteError(`the signature by ${m[1]} is not base64`);
    }
    if (raw.length < 5) throw new NoteError(`the signature by ${m[1]} is too short`);
    signatures.push({ name: m[1], keyId: raw.slice(0, 4), signature: raw.slice(4) });
  }
  if (signatures.length === 0) throw new NoteError('the checkpoint carries no signature');
  return { text, body, origin, size: sizeText, root, rootBase64: rootText, extensions: lines.slice(3), signatures };
}

/** Parses a verifier key; throws NoteError on any malformation. */
export function parseVerifierKey(text) {
  // The name has no '+'; the base64 key may.
  const m = /^([^+]*)\+([^+]*)\+(.*)$/su.exec(text.trim());
  if (m === null) throw new NoteError('the verifier key is not <name>+<key id>+<key>');
  const [, name, idHex, keyB64] = m;
  if (!validKeyName(name)) throw new NoteError('the verifier key’s name is malformed');
  if (!/^[0-9a-f]{8}$/.test(idHex)) throw new NoteError('the verifier key’s id is not 8 lowercase hex digits');
  let key;
  try {
    key = base64ToBytes(keyB64);
  } catch {
    throw new NoteError('the verifier key is not base64');
  }
  if (key.length !== 33 || key[0] !== ALG_ED25519) throw new NoteError('the verifier key is not an Ed25519 key (0x01 ‖ 32 bytes)');
  return { name, idHex, publicKey: key.slice(1), encoded: key };
}

/** The C2SP key id: SHA-256(name ‖ "\n" ‖ 0x01 ‖ public key)[0:4]. */
export async function keyIdOf(name, encodedKey) {
  const nameBytes = enc.encode(`${name}\n`);
  const data = new Uint8Array(nameBytes.length + encodedKey.length);
  data.set(nameBytes, 0);
  data.set(encodedKey, nameBytes.length);
  return new Uint8Array(await crypto.subtle.digest('SHA-256', data)).slice(0, 4);
}

/**
 * Verifies a checkpoint note against a verifier key. Never throws: resolves to
 * `{verified, reason, note?, key?}` where `reason` says why not (or what verified).
 */
export async function verifyCheckpoint(noteBytes, keyText) {
  let note;
  let key;
  try {
    note = parseCheckpoint(noteBytes);
    key = parseVerifierKey(keyText);
  } catch (err) {
    return { verified: false, reason: err instanceof Error ? err.message : String(err), note, key };
  }
  const computedId = bytesToHex(await keyIdOf(key.name, key.encoded));
  if (computedId !== key.idHex)
    return { verified: false, reason: `the verifier key’s id ${key.idHex} does not match its key (${computedId})`, note, key };
  const mine = note.signatures.filter((s) => s.name === key.name && bytesToHex(s.keyId) === key.idHex);
  if (mine.length === 0) return { verified: false, reason: `no signature by ${key.name}+${key.idHex}`, note, key };
  let publicKey;
  try {
    publicKey = await crypto.subtle.importKey('raw', key.publicKey, { name: 'Ed25519' }, false, ['verify']);
  } catch (err) {
    return {
      verified: false,
      reason: `this browser cannot verify Ed25519 (${err instanceof Error ? err.message : String(err)})`,
      note,
      key,
    };
  }
  const message = enc.encode(note.body);
  for (const s of mine) {
    if (s.signature.length !== 64) continue;
    if (await crypto.subtle.verify({ name: 'Ed25519' }, publicKey, s.signature, message)) {
      return { verified: true, reason: `Ed25519 signature by ${key.name}+${key.idHex} verifies`, note, key };
    }
  }
  return { verified: false, reason: `the signature by ${key.name}+${key.idHex} does not verify`, note, key };
}
