import { createHash, hash } from 'node:crypto';
import { leafHash } from '../audit-leaf';

/**
 * RFC 6962 / RFC 9162 Merkle tree over the audit leaves, served from stored subtree hashes.
 *
 * Storage model: for a log of n leaves the caller keeps the hash of every COMPLETE ALIGNED subtree,
 * node (level L, index i) = MTH(D[i·2^L : (i+1)·2^L]), level 0 being the leaf hashes. Every subtree
 * that RFC 6962's recursive definitions touch is a range [a, b) with a a multiple of
 * 2^ceil(log2(b - a)); such a range is the concatenation of complete aligned blocks whose sizes are
 * the set bits of (b - a), largest first, and its hash is those blocks folded right to left. So any
 * tree head or proof for any size ≤ n needs O(log n) stored nodes.
 *
 * The API is PLAN + COMPUTE: `nodesFor*` name the nodes needed (one database query), the functions
 * of the same name compute from a map holding at least those nodes and throw `MissingNodeError`
 * otherwise. Verification (`verifyInclusion`, `verifyConsistency`) needs no storage and follows the
 * algorithms of RFC 9162 §2.1.3.2 and §2.1.4.2 step by step.
 *
 * Sizes and indexes are JavaScript numbers and are handled with arithmetic (never 32-bit bitwise
 * operators), so they are exact up to Number.MAX_SAFE_INTEGER.
 */

export { leafHash };

/** Bytes in a SHA-256 hash, hence in every node, root and proof element. */
export const HASH_SIZE = 32;

export type NodeId = { level: number; index: number };
/** Stored node hashes, keyed by `nodeKey(level, index)`. */
export type NodeMap = ReadonlyMap<string, Buffer>;

/** A node the computation needed and the map did not hold. */
export class MissingNodeError extends Error {
  constructor(
    readonly level: number,
    readonly index: number,
  ) {
    super(`Merkle node level ${level} index ${index} is missing`);
    this.name = 'MissingNodeError';
  }
}

/** `level:index`, both decimal (callers may split on ':'). */
export function nodeKey(level: number, index: number): string {
  if (!Number.isSafeInteger(level) || level < 0 || level > 53) throw new RangeError(`bad Merkle node level ${level}`);
  if (!Number.isSafeInteger(index) || index < 0) throw new RangeError(`bad Merkle node index ${index}`);
  return `${level}:${index}`;
}

/** 0x01 ‖ left ‖ right, filled in by nodeHash. */
const NODE_INPUT = Buffer.alloc(1 + 2 * HASH_SIZE, 0x01);

/** RFC 6962 interior node: SHA-256(0x01 ‖ left ‖ right). */
export function nodeHash(left: Buffer, right: Buffer): Buffer {
  if (left.length !== HASH_SIZE || right.length !== HASH_SIZE) throw new RangeError(`Merkle node children must be ${HASH_SIZE} bytes`);
  // One-shot hash of a reused scratch buffer: a third faster than a Hash object, and safe because
  // it is synchronous.
  NODE_INPUT.set(left, 1);
  NODE_INPUT.set(right, 1 + HASH_SIZE);
  return hash('sha256', NODE_INPUT, 'buffer');
}

/** The root of the empty tree: SHA-256 of the empty string. */
export function emptyRoot(): Buffer {
  return createHash('sha256').digest();
}

// ---------------------------------------------------------------------------------------------
// Shapes: the ranges [a, b) whose hashes make up a root or a proof.

type Range = readonly [start: number, end: number];

function checkSize(name: string, n: number): void {
  if (!Number.isSafeInteger(n) || n < 0) throw new RangeError(`${name} must be a non-negative safe integer, got ${n}`);
}

/** The largest power of two strictly smaller than n (n ≥ 2): RFC 6962's split point k. */
function splitPoint(n: number): number {
  let k = 1;
  while (k * 2 < n) k *= 2;
  return k;
}

/** The largest power of two ≤ n (n ≥ 1), with its exponent. */
function floorPow2(n: number): { size: number; level: number } {
  let size = 1;
  let level = 0;
  while (size * 2 <= n) {
    size *= 2;
    level++;
  }
  return { size, level };
}

/**
 * The complete aligned blocks that make up [a, b), largest first. Precondition (true of every
 * subtree in RFC 6962's definitions): a is a multiple of 2^ceil(log2(b - a)).
 */
function blocksOf(a: number, b: number): NodeId[] {
  const out: NodeId[] = [];
  let rest = b - a;
  if (rest <= 0) return out;
  let pos = a;
  let { size, level } = floorPow2(rest);
  while (rest > 0) {
    if (rest >= size) {
      if (pos % size !== 0) throw new Error(`internal: range [${a}, ${b}) is not aligned`);
      out.push({ level, index: pos / size });
      pos += size;
      rest -= size;
    }
    size /= 2;
    level--;
  }
  return out;
}

/** PATH(m, D[n]) of RFC 6962 §2.1.1 as ranges, in proof order (leaf's sibling first). */
function inclusionRanges(index: number, size: number): Range[] {
  const path: Range[] = [];
  let a = 0;
  let b = size;
  while (b - a > 1) {
    const k = splitPoint(b - a);
    if (index < a + k) {
      path.push([a + k, b]); // PATH(m, D[0:k]) : MTH(D[k:n])
      b = a + k;
    } else {
      path.push([a, a + k]); // PATH(m - k, D[k:n]) : MTH(D[0:k])
      a += k;
    }
  }
  return path.reverse();
}

/** PROOF(m, D[n]) = SUBPROOF(m, D[n], true) of RFC 6962 §2.1.2 as ranges, in proof order. */
function consistencyRanges(from: number, to: number): Range[] {
  if (from === 0 || from === to) return [];
  const out: Range[] = [];
  let a = 0;
  let b = to;
  let whole = true; // the `b` flag: D[a:b] is still the whole of a tree the verifier knows the root of
  // Invariant: a < from ≤ b, so m = from - a and n = b - a satisfy 0 < m ≤ n.
  for (;;) {
    if (from === b) {
      if (!whole) out.push([a, b]); // SUBPROOF(m, D[m], false) = {MTH(D[m])}
      break;
    }
    const k = splitPoint(b - a);
    if (from <= a + k) {
      out.push([a + k, b]); // SUBPROOF(m, D[0:k], b) : MTH(D[k:n])
      b = a + k;
    } else {
      out.push([a, a + k]); // SUBPROOF(m - k, D[k:n], false) : MTH(D[0:k])
      a += k;
      whole = false;
    }
  }
  return out.reverse();
}

function nodesOf(ranges: Range[]): NodeId[] {
  const seen = new Set<string>();
  const out: NodeId[] = [];
  for (const [a, b] of ranges) {
    for (const id of blocksOf(a, b)) {
      const key = nodeKey(id.level, id.index);
      if (!seen.has(key)) {
        seen.add(key);
        out.push(id);
      }
    }
  }
  return out;
}

function getNode(nodes: NodeMap, id: NodeId): Buffer {
  const h = nodes.get(nodeKey(id.level, id.index));
  if (h === undefined) throw new MissingNodeError(id.level, id.index);
  if (h.length !== HASH_SIZE) throw new Error(`Merkle node level ${id.level} index ${id.index} is ${h.length} bytes, not ${HASH_SIZE}`);
  return h;
}

function hashOf(range: Range, nodes: NodeMap): Buffer {
  const blocks = blocksOf(range[0], range[1]);
  if (blocks.length === 0) return emptyRoot();
  let h = getNode(nodes, blocks[blocks.length - 1]);
  for (let i = blocks.length - 2; i >= 0; i--) h = nodeHash(getNode(nodes, blocks[i]), h);
  return h;
}

// ---------------------------------------------------------------------------------------------
// PLAN: which complete aligned nodes are needed.

/** Nodes needed by `rootAt(size)`: the decomposition of [0, size), at most log2(size) + 1. */
export function nodesForRoot(size: number): NodeId[] {
  checkSize('tree size', size);
  return blocksOf(0, size);
}

/** Nodes needed by `inclusionProof(index, size)`; O(log size). */
export function nodesForInclusion(index: number, size: number): NodeId[] {
  checkInclusionArgs(index, size);
  return nodesOf(inclusionRanges(index, size));
}

/** Nodes needed by `consistencyProof(from, to)`; O(log to). */
export function nodesForConsistency(from: number, to: number): NodeId[] {
  checkConsistencyArgs(from, to);
  return nodesOf(consistencyRanges(from, to));
}

/**
 * Nodes needed by `rangeHash(start, end)`: the complete aligned blocks of [start, end). `start` must
 * be a multiple of 2^ceil(log2(end - start)) (true of every subtree RFC 6962 names).
 */
export function nodesForRange(start: number, end: number): NodeId[] {
  checkRangeArgs(start, end);
  return blocksOf(start, end);
}

// ---------------------------------------------------------------------------------------------
// COMPUTE: from a map holding at least the planned nodes.

/** MTH(D[size]); size 0 gives SHA-256 of the empty string. */
export function rootAt(size: number, nodes: NodeMap): Buffer {
  checkSize('tree size', size);
  return hashOf([0, size], nodes);
}

/** MTH(D[start:end]) for an aligned range (see `nodesForRange`). */
export function rangeHash(start: number, end: number, nodes: NodeMap): Buffer {
  checkRangeArgs(start, end);
  return hashOf([start, end], nodes);
}

/** PATH(index, D[size]) (RFC 6962 §2.1.1, the audit path of RFC 9162 §2.1.3.1). */
export function inclusionProof(index: number, size: number, nodes: NodeMap): Buffer[] {
  checkInclusionArgs(index, size);
  return inclusionRanges(index, size).map((r) => hashOf(r, nodes));
}

/** PROOF(from, D[to]) (RFC 6962 §2.1.2, RFC 9162 §2.1.4.1); empty when from is 0 or from = to. */
export function consistencyProof(from: number, to: number, nodes: NodeMap): Buffer[] {
  checkConsistencyArgs(from, to);
  return consistencyRanges(from, to).map((r) => hashOf(r, nodes));
}

function checkInclusionArgs(index: number, size: number): void {
  checkSize('tree size', size);
  checkSize('leaf index', index);
  if (index >= size) throw new RangeError(`leaf index ${index} is not in a tree of size ${size}`);
}

function checkConsistencyArgs(from: number, to: number): void {
  checkSize('first tree size', from);
  checkSize('second tree size', to);
  if (from > to) throw new RangeError(`no consistency proof from size ${from} to the smaller size ${to}`);
}

function checkRangeArgs(start: number, end: number): void {
  checkSize('range start', start);
  checkSize('range end', end);
  if (end < start) throw new RangeError(`bad range [${start}, ${end})`);
  if (end > start && start % floorPow2(2 * (end - start) - 1).size !== 0) {
    throw new RangeError(`range [${start}, ${end}) is not a subtree: start is not aligned`);
  }
}

// ---------------------------------------------------------------------------------------------
// Incremental maintenance.

/**
 * The stored nodes `newCompleteNodes(start, leaves of length count)` reads: for each level, at most
 * the left child of the first node that the new leaves complete (the left edge of the new leaves,
 * i.e. the blocks of [0, start) that still lack a right sibling). O(log(start + count)).
 */
export function nodesNeededToExtend(start: number, count: number): NodeId[] {
  checkSize('start', start);
  checkSize('count', count);
  const end = start + count;
  checkSize('start + count', end);
  const out: NodeId[] = [];
  for (let level = 1, width = 2; width <= end; level++, width *= 2) {
    const first = Math.floor(start / width);
    const last = Math.floor(end / width) - 1;
    if (first > last) continue;
    // Only the first new node's left child can be old: its end is first·width + width/2.
    if (first * width + width / 2 <= start) out.push({ level: level - 1, index: 2 * first });
  }
  return out;
}

/**
 * The right edge of a tree of `size` leaves: every complete node that is a left child whose
 * parent is not complete yet. These are all the stored nodes any extension from `size` reads
 * (`nodesNeededToExtend(size, k)` ⊆ `rightEdge(size)` for every k), so a writer that keeps them
 * needs to read nothing to append. O(log size).
 */
export function rightEdge(size: number): NodeId[] {
  checkSize('size', size);
  const out: NodeId[] = [];
  for (let level = 1, width = 2; width / 2 <= size; level++, width *= 2) {
    const first = Math.floor(size / width);
    if (first * width + width / 2 <= size) out.push({ level: level - 1, index: 2 * first });
  }
  return out;
}

/**
 * Every complete aligned node of level ≥ 1 that the leaves [start, start + leafHashes.length)
 * complete, with its hash, keyed by `nodeKey`. The leaf hashes themselves (level 0) are not in the
 * result: the caller stores them as given. `stored` must hold `nodesNeededToExtend(start, k)`.
 */
export function newCompleteNodes(start: number, leafHashes: Buffer[], stored: NodeMap): Map<string, Buffer> {
  checkSize('start', start);
  const end = start + leafHashes.length;
  checkSize('start + count', end);
  leafHashes.forEach((h, i) => {
    if (!Buffer.isBuffer(h) || h.length !== HASH_SIZE) throw new RangeError(`leaf hash ${start + i} is not ${HASH_SIZE} bytes`);
  });
  const out = new Map<string, Buffer>();
  const child = (level: number, index: number): Buffer => {
    const width = 2 ** level;
    if ((index + 1) * width > start) {
      // Completed by this batch.
      if (level === 0) return leafHashes[index - start];
      const h = out.get(nodeKey(level, index));
      if (h === undefined) throw new Error(`internal: new node ${level}:${index} not computed`);
      return h;
    }
    return getNode(stored, { level, index });
  };
  for (let level = 1, width = 2; width <= end; level++, width *= 2) {
    const first = Math.floor(start / width);
    const last = Math.floor(end / width) - 1;
    for (let i = first; i <= last; i++) {
      out.set(nodeKey(level, i), nodeHash(child(level - 1, 2 * i), child(level - 1, 2 * i + 1)));
    }
  }
  return out;
}

// ---------------------------------------------------------------------------------------------
// Verification: RFC 9162 §2.1.3.2 and §2.1.4.2, independent of storage. Never throws.

function isHash(b: unknown): b is Buffer {
  return Buffer.isBuffer(b) && b.length === HASH_SIZE;
}

const isOdd = (x: number): boolean => x % 2 === 1;
const half = (x: number): number => Math.floor(x / 2);

/** RFC 9162 §2.1.3.2: is `leafHash` at `index` in the tree of `size` whose root is `root`? */
export function verifyInclusion(leafHash: Buffer, index: number, size: number, proof: Buffer[], root: Buffer): boolean {
  if (!Number.isSafeInteger(index) || !Number.isSafeInteger(size) || index < 0) return false;
  if (!isHash(leafHash) || !isHash(root) || !Array.isArray(proof) || !proof.every(isHash)) return false;
  // 1. leaf_index must be < tree_size.
  if (index >= size) return false;
  // 2-3.
  let fn = index;
  let sn = size - 1;
  let r = leafHash;
  // 4.
  for (const p of proof) {
    if (sn === 0) return false; // a.
    if (isOdd(fn) || fn === sn) {
      // b.
      r = nodeHash(p, r);
      if (!isOdd(fn)) {
        while (!isOdd(fn) && fn !== 0) {
          fn = half(fn);
          sn = half(sn);
        }
      }
    } else {
      r = nodeHash(r, p);
    }
    fn = half(fn); // c.
    sn = half(sn);
  }
  // 5.
  return sn === 0 && r.equals(root);
}

/**
 * RFC 9162 §2.1.4.2: is the tree of size `from` with root `fromRoot` a prefix of the tree of size
 * `to` with root `toRoot`? For from = to the proof must be empty and the roots equal; for from = 0
 * the proof must be empty and `fromRoot` the empty tree's root (every tree extends the empty one).
 */
export function verifyConsistency(from: number, to: number, fromRoot: Buffer, toRoot: Buffer, proof: Buffer[]): boolean {
  if (!Number.isSafeInteger(from) || !Number.isSafeInteger(to) || from < 0 || to < from) return false;
  if (!isHash(fromRoot) || !isHash(toRoot) || !Array.isArray(proof) || !proof.every(isHash)) return false;
  if (from === to) return proof.length === 0 && fromRoot.equals(toRoot);
  if (from === 0) return proof.length === 0 && fromRoot.equals(emptyRoot());
  // 1.
  if (proof.length === 0) return false;
  // 2.
  const path = isPowerOfTwo(from) ? [fromRoot, ...proof] : proof;
  // 3.
  let fn = from - 1;
  let sn = to - 1;
  // 4.
  while (isOdd(fn)) {
    fn = half(fn);
    sn = half(sn);
  }
  // 5.
  let fr = path[0];
  let sr = path[0];
  // 6.
  for (const c of path.slice(1)) {
    if (sn === 0) return false; // a.
    if (isOdd(fn) || fn === sn) {
      // b.
      fr = nodeHash(c, fr);
      sr = nodeHash(c, sr);
      if (!isOdd(fn)) {
        while (!isOdd(fn) && fn !== 0) {
          fn = half(fn);
          sn = half(sn);
        }
      }
    } else {
      sr = nodeHash(sr, c);
    }
    fn = half(fn); // c.
    sn = half(sn);
  }
  // 7.
  return fr.equals(fromRoot) && sr.equals(toRoot) && sn === 0;
}

function isPowerOfTwo(n: number): boolean {
  return n >= 1 && floorPow2(n).size === n;
}
