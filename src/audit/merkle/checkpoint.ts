import { createHash, createPublicKey, type KeyObject, sign, verify } from 'node:crypto';

/**
 * Checkpoints: C2SP tlog-checkpoint bodies carried in C2SP signed notes, signed with Ed25519.
 *
 *   <origin>\n<tree size, decimal>\n<base64 root hash>\n[extension lines\n]   ← the note text (body)
 *   \n
 *   — <key name> <base64(4-byte key id ‖ 64-byte Ed25519 signature over the body bytes)>\n
 *
 * Key id = first 4 bytes of SHA-256(name ‖ 0x0A ‖ 0x01 ‖ 32-byte public key); the verifier key text
 * is `<name>+<8 hex key id>+<base64(0x01 ‖ public key)>`.
 */

export interface Checkpoint {
  origin: string;
  size: number;
  rootHash: Buffer;
}

export type CheckpointErrorCode =
  /** The note is not a signed note (no blank line, a bad signature line, control characters…). */
  | 'bad-format'
  /** The verifier key text cannot be parsed or its key id does not match its key. */
  | 'bad-verifier-key'
  /** No signature line has the verifier's key name and key id. */
  | 'no-signature'
  /** A signature line for the verifier's key does not verify. */
  | 'bad-signature'
  /** The origin line is empty or malformed. */
  | 'bad-origin'
  /** The size line is not a decimal without leading zeros (or too large). */
  | 'bad-size'
  /** The root line is not the canonical base64 of 32 bytes. */
  | 'bad-root';

export class CheckpointError extends Error {
  constructor(
    readonly code: CheckpointErrorCode,
    message: string,
  ) {
    super(message);
    this.name = 'CheckpointError';
  }
}

const ED25519 = 0x01;
const SIG_PREFIX = '\u2014 '; // "— ": em dash, space
const MAX_SIGNATURES = 100;
const ED25519_SPKI_PREFIX = Buffer.from('302a300506032b6570032100', 'hex');

/** First 4 bytes of SHA-256(name ‖ 0x0A ‖ 0x01 ‖ publicKey). */
export function keyId(name: string, publicKey: Buffer): Buffer {
  checkRawKey(publicKey);
  const h = createHash('sha256')
    .update(name, 'utf8')
    .update(Buffer.from([0x0a, ED25519]))
    .update(publicKey)
    .digest();
  return Buffer.from(h.subarray(0, 4));
}

/** `<name>+<8 hex keyid>+<base64(0x01 ‖ pubkey)>`. */
export function verifierKey(name: string, publicKey: Buffer): string {
  checkKeyName(name, 'bad-verifier-key');
  checkRawKey(publicKey);
  return `${name}+${keyId(name, publicKey).toString('hex')}+${Buffer.concat([Buffer.from([ED25519]), publicKey]).toString('base64')}`;
}

/** Parses verifier key text; throws CheckpointError('bad-verifier-key') saying what is wrong. */
export function parseVerifierKey(text: string): { name: string; keyId: Buffer; publicKey: Buffer } {
  const fail = (why: string): never => {
    throw new CheckpointError('bad-verifier-key', `verifier key ${JSON.stringify(text)}: ${why}`);
  };
  if (typeof text !== 'string') return fail('not a string');
  const t = text.trim();
  const plus1 = t.indexOf('+');
  const plus2 = plus1 < 0 ? -1 : t.indexOf('+', plus1 + 1);
  if (plus1 < 0 || plus2 < 0) return fail('expected <name>+<key id>+<key>');
  const name = t.slice(0, plus1);
  const hex = t.slice(plus1 + 1, plus2);
  const b64 = t.slice(plus2 + 1);
  if (!isValidKeyName(name)) return fail('the key name is empty or has a space or "+"');
  if (!/^[0-9a-fA-F]{8}$/.test(hex)) return fail('the key id is not 8 hex digits');
  const key = decodeBase64(b64);
  if (key === undefined) return fail('the key is not base64');
  if (key.length === 0 || key[0] !== ED25519) return fail('the key is not an Ed25519 key (algorithm byte 0x01)');
  if (key.length !== 33) return fail(`an Ed25519 key is 32 bytes, this one is ${key.length - 1}`);
  const publicKey = Buffer.from(key.subarray(1));
  const id = keyId(name, publicKey);
  if (!id.equals(Buffer.from(hex, 'hex'))) return fail(`the key id ${hex} does not match the key (expected ${id.toString('hex')})`);
  return { name, keyId: id, publicKey };
}

/** The checkpoint body: "<origin>\n<size>\n<base64 root>\n". */
export function checkpointBody(c: Checkpoint): string {
  checkOrigin(c.origin);
  if (!Number.isSafeInteger(c.size) || c.size < 0)
    throw new CheckpointError('bad-size', `checkpoint size ${c.size} is not a non-negative integer`);
  if (!Buffer.isBuffer(c.rootHash) || c.rootHash.length !== 32)
    throw new CheckpointError('bad-root', 'checkpoint root hash is not 32 bytes');
  return `${c.origin}\n${c.size}\n${c.rootHash.toString('base64')}\n`;
}

/** The checkpoint as a signed note: body, blank line, `— <name> <base64(keyid ‖ sig)>`. */
export function signCheckpoint(c: Checkpoint, name: string, privateKey: KeyObject): string {
  return signNote(checkpointBody(c), name, privateKey);
}

/**
 * Opens a checkpoint note with one verifier key: the note must carry a valid signature by that key
 * (name and key id); signatures by other keys are ignored. Throws CheckpointError naming the problem.
 * Extension lines after the root are allowed (they are signed) and ignored.
 */
export function openCheckpoint(note: string, verifier: string): Checkpoint {
  return parseCheckpointBody(openNote(note, verifier));
}

/** Parses a checkpoint body (the note text), without any signature check. */
export function parseCheckpointBody(body: string): Checkpoint {
  if (!body.endsWith('\n')) throw new CheckpointError('bad-format', 'checkpoint body does not end with a newline');
  const lines = body.slice(0, -1).split('\n');
  if (lines.length < 3) throw new CheckpointError('bad-format', `checkpoint body has ${lines.length} line(s), needs origin, size and root`);
  const [origin, sizeText, rootText, ...extensions] = lines as [string, string, string, ...string[]];
  checkOrigin(origin);
  if (!/^(0|[1-9][0-9]*)$/.test(sizeText))
    throw new CheckpointError('bad-size', `checkpoint size ${JSON.stringify(sizeText)} is not a decimal without leading zeros`);
  const size = Number(sizeText);
  if (!Number.isSafeInteger(size)) throw new CheckpointError('bad-size', `checkpoint size ${sizeText} is too large`);
  const rootHash = decodeBase64(rootText);
  if (rootHash === undefined || rootHash.length !== 32) {
    throw new CheckpointError('bad-root', `checkpoint root ${JSON.stringify(rootText)} is not the base64 of 32 bytes`);
  }
  if (extensions.some((l) => l === '')) throw new CheckpointError('bad-format', 'checkpoint body has an empty line');
  return { origin, size, rootHash };
}

/** C2SP signed note: `text` (ending in a newline, no blank line) + "\n" + one signature line. */
export function signNote(text: string, name: string, privateKey: KeyObject): string {
  checkKeyName(name, 'bad-format');
  checkNoteText(text);
  if (privateKey.type !== 'private' || privateKey.asymmetricKeyType !== 'ed25519') {
    throw new TypeError('checkpoints are signed with an Ed25519 private key');
  }
  const publicKey = rawPublicKey(createPublicKey(privateKey));
  const sig = sign(null, Buffer.from(text, 'utf8'), privateKey);
  return `${text}\n${SIG_PREFIX}${name} ${Buffer.concat([keyId(name, publicKey), sig]).toString('base64')}\n`;
}

/** Verifies a signed note with one verifier key and returns its text (the signed body). */
export function openNote(note: string, verifier: string): string {
  const key = parseVerifierKey(verifier);
  const bad = (why: string): never => {
    throw new CheckpointError('bad-format', `not a signed note: ${why}`);
  };
  if (typeof note !== 'string') return bad('not a string');
  if (!note.endsWith('\n')) return bad('it does not end with a newline');
  if (Buffer.from(note, 'utf8').toString('utf8') !== note) return bad('it is not valid UTF-8');
  if (hasControl(note, true)) return bad('it has control characters other than newline');
  const split = note.indexOf('\n\n');
  if (split < 0) return bad('no blank line between the text and the signatures');
  const text = note.slice(0, split + 1);
  if (split + 2 === note.length) return bad('no signature lines after the blank line');
  const sigLines = note.slice(split + 2, -1).split('\n');
  if (text === '\n' || text.startsWith('\n')) return bad('the text is empty');
  if (sigLines.length > MAX_SIGNATURES) return bad(`more than ${MAX_SIGNATURES} signatures`);

  const byName: string[] = [];
  let matched = 0;
  for (const line of sigLines) {
    if (!line.startsWith(SIG_PREFIX)) return bad(`signature line ${JSON.stringify(line)} does not start with "— "`);
    const rest = line.slice(SIG_PREFIX.length);
    const space = rest.indexOf(' ');
    if (space < 0) return bad(`signature line ${JSON.stringify(line)} is not "— <name> <signature>"`);
    const name = rest.slice(0, space);
    const sig = decodeBase64(rest.slice(space + 1));
    if (!isValidKeyName(name)) return bad(`signature line ${JSON.stringify(line)} has an invalid key name`);
    if (sig === undefined || sig.length < 5) return bad(`signature line ${JSON.stringify(line)} does not carry base64(key id ‖ signature)`);
    if (name !== key.name) continue;
    const id = sig.subarray(0, 4);
    if (!id.equals(key.keyId)) {
      byName.push(id.toString('hex'));
      continue;
    }
    matched++;
    const signature = sig.subarray(4);
    const ok = signature.length === 64 && verify(null, Buffer.from(text, 'utf8'), publicKeyObject(key.publicKey), signature);
    if (!ok) throw new CheckpointError('bad-signature', `the signature by ${key.name}+${key.keyId.toString('hex')} does not verify`);
  }
  if (matched === 0) {
    const others = byName.length > 0 ? ` (there is one by a key named ${key.name} with key id ${byName.join(', ')})` : '';
    throw new CheckpointError('no-signature', `no signature by ${key.name}+${key.keyId.toString('hex')}${others}`);
  }
  return text;
}

/** The 32 raw bytes of an Ed25519 public key. */
export function rawPublicKey(publicKey: KeyObject): Buffer {
  if (publicKey.asymmetricKeyType !== 'ed25519') throw new TypeError('not an Ed25519 key');
  const der = publicKey.export({ format: 'der', type: 'spki' });
  return Buffer.from(der.subarray(der.length - 32));
}

function publicKeyObject(raw: Buffer): KeyObject {
  return createPublicKey({ key: Buffer.concat([ED25519_SPKI_PREFIX, raw]), format: 'der', type: 'spki' });
}

function checkRawKey(publicKey: Buffer): void {
  if (!Buffer.isBuffer(publicKey) || publicKey.length !== 32) throw new TypeError('an Ed25519 public key is 32 raw bytes');
}

/** Signed-note key names: non-empty, no Unicode space, no "+". */
function isValidKeyName(name: string): boolean {
  return name.length > 0 && !/[\s+]/u.test(name) && !hasControl(name, false);
}

function checkKeyName(name: string, code: CheckpointErrorCode): void {
  if (typeof name !== 'string' || !isValidKeyName(name)) {
    throw new CheckpointError(code, `key name ${JSON.stringify(name)} must be non-empty, without spaces or "+"`);
  }
}

function checkOrigin(origin: string): void {
  if (typeof origin !== 'string' || origin === '') throw new CheckpointError('bad-origin', 'checkpoint origin is empty');
  if (hasControl(origin, false)) throw new CheckpointError('bad-origin', 'checkpoint origin has a newline or control character');
  if (/^\s|\s$/u.test(origin)) throw new CheckpointError('bad-origin', 'checkpoint origin has leading or trailing space');
}

function checkNoteText(text: string): void {
  if (text === '' || !text.endsWith('\n')) throw new CheckpointError('bad-format', 'note text must be non-empty and end with a newline');
  if (text.startsWith('\n') || text.includes('\n\n')) throw new CheckpointError('bad-format', 'note text must not contain a blank line');
  if (hasControl(text, true)) throw new CheckpointError('bad-format', 'note text has control characters other than newline');
}

/** ASCII control characters (C0 and DEL), newline excepted when `newlineOk`. */
function hasControl(text: string, newlineOk: boolean): boolean {
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if ((c < 0x20 && !(newlineOk && c === 0x0a)) || c === 0x7f) return true;
  }
  return false;
}

/** Strict base64 (standard alphabet, padded, canonical); undefined if not. */
function decodeBase64(text: string): Buffer | undefined {
  if (!/^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/.test(text)) return undefined;
  const b = Buffer.from(text, 'base64');
  return b.toString('base64') === text ? b : undefined;
}
