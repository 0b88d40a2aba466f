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
  | { ok: true; size: number; root: string; checkpoints: number }
  | { ok: false; index: number | null; reason: string };

/**
 * Offline verification of an exported audit log against a pinned verifier key: every checkpoint
 * is signed by that key; every leaf's hash recomputes (SHA-256(0x00 ‖ line)) and matches the
 * log's own leaf hash for its index; the export reaches the newest checkpoint (no truncation);
 * the root recomputed over the first `size` leaves equals every checkpoint's root; and, given an
 * earlier checkpoint the auditor kept, the log is consistent with it (no fork, no rewrite). The
 * first problem is reported with the index it concerns.
 */
export function verifyExport(bundle: ExportBundle, verifierKey: string, earlier?: string): Verdict {
  const checkpoints: Checkpoint[] = [];
  for (const note of bundle.checkpoints) {
    try {
      checkpoints.push(openCheckpoint(note, verifierKey));
    } catch (err) {
      return { ok: false, index: null, reason: `a checkpoint does not verify with the pinned key: ${(err as Error).message}` };
    }
  }
  checkpoints.sort((a, b) => a.size - b.size);
  let pinned: Checkpoint | undefined;
  if (earlier !== undefined) {
    try {
      pinned = openCheckpoint(earlier, verifierKey);
    } catch (err) {
      return { ok: false, index: null, reason: `the earlier checkpoint does not verify: ${(err as CheckpointError).message}` };
    }
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
        return { ok: false, index: i, reason: `leaf ${i} is missing: the export's line ${i} is the log's leaf ${i + 1} (a leaf was deleted)` };
      }
      const elsewhere = [...bundle.leafHashes.entries()].find(([, h]) => h === got);
      if (elsewhere !== undefined) return { ok: false, index: i, reason: `leaf ${i} holds the bytes of leaf ${elsewhere[0]} (leaves were moved or swapped)` };
      return { ok: false, index: i, reason: `leaf ${i} does not match its logged hash (its bytes were edited)` };
    }
  }

  const newest = checkpoints[checkpoints.length - 1];
  const wanted = Math.max(newest?.size ?? 0, pinned?.size ?? 0);
  if (hashes.length < wanted) {
    return { ok: false, index: hashes.length, reason: `the log is truncated: a checkpoint signs ${wanted} leaves, the export holds ${hashes.length}` };
  }

  // One pass over the leaves with the tree's right frontier (one complete subtree per level, so
  // memory is O(log n) at any size); at each checkpoint's size the frontier folds into its root.
  const targets = new Map<number, Checkpoint[]>();
  for (const c of [...checkpoints, ...(pinned === undefined ? [] : [pinned])]) targets.set(c.size, [...(targets.get(c.size) ?? []), c]);
  const frontier: { level: number; hash: Buffer }[] = [];
  const root = () => (frontier.length === 0 ? emptyRoot() : frontier.reduceRight((acc, n) => (acc === undefined ? n.hash : nodeHash(n.hash, acc)), undefined as Buffer | undefined)!);
  let previous = 0;
  const check = (size: number): Verdict | undefined => {
    for (const c of targets.get(size) ?? []) {
      if (root().equals(c.rootHash)) continue;
      if (c === pinned) return { ok: false, index: null, reason: `the log is not consistent with the earlier checkpoint of size ${c.size} (a fork or a rewrite)` };
      return { ok: false, index: previous, reason: `the root of the first ${c.size} leaves differs from the signed checkpoint: a leaf in [${previous}, ${c.size}) was altered` };
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
  return { ok: true, size: hashes.length, root: root().toString('hex'), checkpoints: checkpoints.length };
}
