import { leafHash } from '../audit-leaf';
import { CheckpointError, type Checkpoint, openCheckpoint } from '../merkle/checkpoint';
import { newCompleteNodes, nodeKey, rootAt } from '../merkle/rfc6962';

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

  // Build the tree once; every checkpoint's root must come out of the exported leaves.
  const nodes = new Map<string, Buffer>();
  const BATCH = 4096;
  for (let start = 0; start < hashes.length; start += BATCH) {
    const batch = hashes.slice(start, start + BATCH);
    batch.forEach((h, i) => nodes.set(nodeKey(0, start + i), h));
    for (const [k, v] of newCompleteNodes(start, batch, nodes)) nodes.set(k, v);
  }
  let previous = 0;
  for (const c of checkpoints) {
    if (!rootAt(c.size, nodes).equals(c.rootHash)) {
      return { ok: false, index: previous, reason: `the root of the first ${c.size} leaves differs from the signed checkpoint: a leaf in [${previous}, ${c.size}) was altered` };
    }
    previous = c.size;
  }
  if (pinned !== undefined && !rootAt(pinned.size, nodes).equals(pinned.rootHash)) {
    return { ok: false, index: null, reason: `the log is not consistent with the earlier checkpoint of size ${pinned.size} (a fork or a rewrite)` };
  }
  return { ok: true, size: hashes.length, root: rootAt(hashes.length, nodes).toString('hex'), checkpoints: checkpoints.length };
}
