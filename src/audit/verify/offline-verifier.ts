import { leafHash } from '../audit-leaf';
import { CheckpointError, type Checkpoint, openCheckpoint } from '../merkle/checkpoint';
import { emptyRoot, nodeHash } from '../merkle/rfc6962';

/** An export as `cage audit export` writes it. */
export interface ExportBundle {
  /** JSONL lines: each exactly one leaf's canonical bytes, leaves [0, lines.length). */
  lines: Buffer[];
  /** The log's own leaf hashes by index (leaf-hashes.txt), when exported. */
  leafHashes?: Map<number, string>;
  /** Signed checkpoint notes covering sizes up to the export's end. */
  checkpoints: string[];
}

export type Verdict =
  | {
      ok: true;
      size: number;
      root: string;
      checkpoints: number;
      keys: number;
      /** Leaves [0, covered) are under a signed checkpoint that verified. */
      covered: number;
      /** Leaves past the newest verified checkpoint: nothing signed vouches for them (accepted only when asked). */
      unverified: number;
    }
  | { ok: false; index: number | null; reason: string };

/** The audit action of a signing-key rotation; its leaf names both keys (RotationDetail). */
export const ROTATION_ACTION = 'keys.rotate';

/** A key as a rotation leaf names it. */
export type RotatedKey = {
  kid: string;
  keyId: string;
  verifierKey: string;
};

/** `detail` of a `keys.rotate` leaf. */
export type RotationDetail = {
  from: RotatedKey;
  to: RotatedKey;
  /** Until when the retired key's tokens are accepted. */
  tokensUntil: string;
  /** `rotate` (an organizer's rotation) or `configured key replaced` (a start with a new configured key). */
  reason: string;
};

interface SignedCheckpoint {
  checkpoint: Checkpoint;
  key: string;
}

/**
 * Offline verification of an exported audit log against pinned verifier keys: every checkpoint
 * is signed by a trusted key; every leaf's hash recomputes (SHA-256(0x00 ‖ line)) and matches the
 * log's own leaf hash for its index; the export reaches the newest checkpoint (no truncation);
 * the root recomputed over the first `size` leaves equals every checkpoint's root; and, given an
 * earlier checkpoint the auditor kept, the log is consistent with it (no fork, no rewrite). The
 * first problem is reported with the index it concerns.
 *
 * Keys (issue 12): `pinned` may hold several keys (every key the gateway has had); each
 * checkpoint is checked with the key its signature line names. A key that is not pinned is
 * trusted once the log introduces it: a `keys.rotate` leaf naming it, covered by a checkpoint
 * signed by a key already trusted, so one key pinned before a rotation verifies the log after it.
 * A key a rotation retired signs no checkpoint larger than one its successor signed.
 */
export function verifyExport(
  bundle: ExportBundle,
  pinned: string | readonly string[],
  earlier?: string,
  opts: { acceptUnverified?: boolean } = {},
): Verdict {
  const pinnedKeys = (typeof pinned === 'string' ? [pinned] : [...pinned]).map((k) => k.trim()).filter((k) => k !== '');
  if (pinnedKeys.length === 0) return { ok: false, index: null, reason: 'no verifier key given' };
  const rotations = rotationsIn(bundle.lines);
  const known = [...new Set([...pinnedKeys, ...rotations.flatMap((r) => [r.detail.to.verifierKey, r.detail.from.verifierKey])])];
  const signed: SignedCheckpoint[] = [];
  for (const note of bundle.checkpoints) {
    const opened = openWithAny(note, known);
    if (!opened.ok)
      return {
        ok: false,
        index: null,
        reason: `a checkpoint does not verify with the pinned key${pinnedKeys.length > 1 ? 's' : ''}: ${opened.reason}`,
      };
    signed.push({ checkpoint: opened.checkpoint, key: opened.key });
  }
  signed.sort((a, b) => a.checkpoint.size - b.checkpoint.size);
  const trust = walkTrust(signed, pinnedKeys, rotations);
  if (typeof trust === 'string') return { ok: false, index: null, reason: trust };
  const checkpoints = signed.map((s) => s.checkpoint);
  let pinnedEarlier: Checkpoint | undefined;
  if (earlier !== undefined) {
    const opened = openWithAny(earlier, [...trust]);
    if (!opened.ok) return { ok: false, index: null, reason: `the earlier checkpoint does not verify: ${opened.reason}` };
    pinnedEarlier = opened.checkpoint;
  }

  const hashes = bundle.lines.map((l) => leafHash(l));
  if (bundle.leafHashes !== undefined) {
    for (let i = 0; i < hashes.length; i++) {
      const logged = bundle.leafHashes.get(i);
      const got = hashes[i].toString('hex');
      if (logged === got) continue;
      if (logged === undefined) return { ok: false, index: i, reason: `leaf ${i} has no logged hash: the export and the tree disagree` };
      const next = hashes[i + 1]?.toString('hex');
      if (bundle.leafHashes.get(i + 1) === got && next !== logged) {
        return {
          ok: false,
          index: i,
          reason: `leaf ${i} is missing: the export's line ${i} is the log's leaf ${i + 1} (a leaf was deleted)`,
        };
      }
      const elsewhere = [...bundle.leafHashes.entries()].find(([, h]) => h === got);
      if (elsewhere !== undefined)
        return { ok: false, index: i, reason: `leaf ${i} holds the bytes of leaf ${elsewhere[0]} (leaves were moved or swapped)` };
      return { ok: false, index: i, reason: `leaf ${i} does not match its logged hash (its bytes were edited)` };
    }
  }

  const newest = checkpoints[checkpoints.length - 1];
  const wanted = Math.max(newest?.size ?? 0, pinnedEarlier?.size ?? 0);
  if (hashes.length < wanted) {
    return {
      ok: false,
      index: hashes.length,
      reason: `the log is truncated: a checkpoint signs ${wanted} leaves, the export holds ${hashes.length}`,
    };
  }

  // One pass over the leaves with the tree's right frontier (one complete subtree per level, so
  // memory is O(log n) at any size); at each checkpoint's size the frontier folds into its root.
  const targets = new Map<number, Checkpoint[]>();
  for (const c of [...checkpoints, ...(pinnedEarlier === undefined ? [] : [pinnedEarlier])])
    targets.set(c.size, [...(targets.get(c.size) ?? []), c]);
  const frontier: { level: number; hash: Buffer }[] = [];
  const root = () =>
    frontier.length === 0
      ? emptyRoot()
      : frontier.reduceRight((acc, n) => (acc === undefined ? n.hash : nodeHash(n.hash, acc)), undefined as Buffer | undefined)!;
  let previous = 0;
  const check = (size: number): Verdict | undefined => {
    for (const c of targets.get(size) ?? []) {
      if (root().equals(c.rootHash)) continue;
      if (c === pinnedEarlier)
        return {
          ok: false,
          index: null,
          reason: `the log is not consistent with the earlier checkpoint of size ${c.size} (a fork or a rewrite)`,
        };
      return {
        ok: false,
        index: previous,
        reason: `the root of the first ${c.size} leaves differs from the signed checkpoint: a leaf in [${previous}, ${c.size}) was altered`,
      };
    }
    if (targets.has(size)) previous = size;
    return undefined;
  };
  for (let i = 0; i < hashes.length; i++) {
    let node = { level: 0, hash: hashes[i] };
    while (frontier.length > 0 && frontier[frontier.length - 1].level === node.level) {
      const left = frontier.pop()!;
      node = { level: node.level + 1, hash: nodeHash(left.hash, node.hash) };
    }
    frontier.push(node);
    const bad = check(i + 1);
    if (bad !== undefined) return bad;
  }
  // Leaves no signed checkpoint covers recompute against nothing: an appended forgery, or leaves
  // rewritten above the newest checkpoint after later ones were deleted, would pass unnoticed.
  const unverified = hashes.length - wanted;
  if (unverified > 0 && opts.acceptUnverified !== true)
    return {
      ok: false,
      index: wanted,
      reason: `${unverified} leaves [${wanted}, ${hashes.length}) are beyond the newest signed checkpoint (size ${wanted}): nothing signed vouches for them. Export up to a checkpoint (the default), or accept them as unverified`,
    };
  return {
    ok: true,
    size: hashes.length,
    root: root().toString('hex'),
    checkpoints: checkpoints.length,
    keys: new Set(signed.map((c) => c.key)).size,
    covered: wanted,
    unverified,
  };
}

/** The `keys.rotate` leaves of the export, in log order (the leaves' bytes are checked later, against the tree). */
function rotationsIn(lines: Buffer[]): { index: number; detail: RotationDetail }[] {
  const marker = Buffer.from(`"action":"${ROTATION_ACTION}"`);
  const out: { index: number; detail: RotationDetail }[] = [];
  lines.forEach((line, index) => {
    if (!line.includes(marker)) return;
    let leaf: { action?: unknown; decision?: unknown; detail?: Partial<RotationDetail> | null };
    try {
      leaf = JSON.parse(line.toString('utf8')) as typeof leaf;
    } catch {
      return; // an edited leaf: its hash check names it
    }
    const d = leaf.detail;
    if (
      leaf.action !== ROTATION_ACTION ||
      leaf.decision !== 'allow' ||
      typeof d?.to?.verifierKey !== 'string' ||
      typeof d.from?.verifierKey !== 'string'
    )
      return;
    out.push({ index, detail: d as RotationDetail });
  });
  return out;
}

/** Opens a note with the key its signature line names, among `keys`. */
function openWithAny(
  note: string,
  keys: readonly string[],
): { ok: true; checkpoint: Checkpoint; key: string } | { ok: false; reason: string } {
  let last = '';
  for (const key of keys) {
    try {
      return { ok: true, checkpoint: openCheckpoint(note, key), key };
    } catch (err) {
      // Only "not signed by this key" moves on to the next key; a bad signature by a key we trust is fatal.
      if (!(err instanceof CheckpointError) || err.code !== 'no-signature') return { ok: false, reason: (err as Error).message };
      last = err.message;
    }
  }
  return { ok: false, reason: keys.length === 1 ? last : `no signature by any of the ${keys.length} trusted keys` };
}

/**
 * Which keys are trusted, and whether every checkpoint is signed by one. A pinned key is trusted;
 * so is a key a rotation leaf links to a trusted one, when a checkpoint by a trusted key covers
 * that leaf: forward (a trusted old key's checkpoint vouches for the new key it names) and back
 * (the trusted new key's own checkpoint vouches for the key it replaced). Then, in size order,
 * no checkpoint may be signed by a key after its successor has signed one. Returns the trusted
 * keys, or what is wrong.
 */
function walkTrust(
  signed: SignedCheckpoint[],
  pinned: string[],
  rotations: { index: number; detail: RotationDetail }[],
): Set<string> | string {
  const trusted = new Set(pinned);
  const largestBy = new Map<string, number>();
  for (const { checkpoint, key } of signed) largestBy.set(key, Math.max(largestBy.get(key) ?? 0, checkpoint.size));
  const covers = (key: string, index: number) => (largestBy.get(key) ?? 0) > index;
  for (let grew = true; grew;) {
    grew = false;
    for (const { index, detail } of rotations) {
      const from = detail.from.verifierKey;
      const to = detail.to.verifierKey;
      const forward = trusted.has(from) && !trusted.has(to) && [...trusted].some((k) => covers(k, index));
      const back = trusted.has(to) && !trusted.has(from) && covers(to, index);
      if (forward) trusted.add(to);
      if (back) trusted.add(from);
      grew ||= forward || back;
    }
  }
  const successor = new Map(rotations.map((r) => [r.detail.from.verifierKey, r.detail.to.verifierKey]));
  const firstBy = new Map<string, number>();
  for (const { checkpoint, key } of signed) if (!firstBy.has(key)) firstBy.set(key, checkpoint.size);
  for (const { checkpoint, key } of signed) {
    if (!trusted.has(key)) {
      return `the checkpoint of size ${checkpoint.size} is signed by ${shortKey(key)}, which is not pinned and which no rotation leaf links to a pinned key`;
    }
    const next = successor.get(key);
    const retiredAt = next === undefined ? undefined : firstBy.get(next);
    if (retiredAt !== undefined && checkpoint.size > retiredAt) {
      return `the checkpoint of size ${checkpoint.size} is signed by ${shortKey(key)}, which a rotation retired (its successor signed the checkpoint of size ${retiredAt})`;
    }
  }
  return trusted;
}

/** `name+keyid` of a verifier key, enough to tell keys apart in a message. */
function shortKey(key: string): string {
  return key.split('+').slice(0, 2).join('+');
}
