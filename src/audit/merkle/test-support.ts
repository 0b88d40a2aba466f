import { type NodeId, nodeKey, newCompleteNodes, nodesNeededToExtend } from './rfc6962';

/** Helpers shared by the Merkle specs (not used by the gateway). */

/** mulberry32: a small seeded PRNG, so "random" samples are the same on every run. */
export function seededRandom(seed: number): (below: number) => number {
  let a = seed >>> 0;
  return (below: number) => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    const r = ((t ^ (t >>> 14)) >>> 0) / 4294967296;
    return Math.floor(r * below);
  };
}

/** What the specs need of a node store: a Map, or a FlatStore for big trees. */
export interface NodeStore {
  get(key: string): Buffer | undefined;
  set(key: string, hash: Buffer): unknown;
}

/**
 * Node hashes of a big tree in one buffer per level (a Map of millions of small Buffers makes the
 * garbage collector, not hashing, the cost of a test). Nodes must be set in index order per level.
 */
export class FlatStore implements NodeStore {
  private readonly levels: Buffer[] = [];
  private readonly counts: number[] = [];

  constructor(private readonly capacity: number) {}

  get size(): number {
    return this.counts.reduce((a, b) => a + b, 0);
  }

  get(key: string): Buffer | undefined {
    const [level, index] = parseKey(key);
    if (index >= (this.counts[level] ?? 0)) return undefined;
    return this.levels[level].subarray(index * 32, index * 32 + 32);
  }

  set(key: string, hash: Buffer): this {
    const [level, index] = parseKey(key);
    const count = this.counts[level] ?? 0;
    if (index !== count) throw new Error(`FlatStore: ${key} set out of order (next is ${count})`);
    const buf = (this.levels[level] ??= Buffer.alloc(Math.floor(this.capacity / 2 ** level) * 32));
    hash.copy(buf, index * 32);
    this.counts[level] = count + 1;
    return this;
  }
}

function parseKey(key: string): [number, number] {
  const colon = key.indexOf(':');
  return [Number(key.slice(0, colon)), Number(key.slice(colon + 1))];
}

/** Only the nodes asked for, taken from a full store; throws if the store lacks one. */
export function pick(store: NodeStore, ids: NodeId[]): Map<string, Buffer> {
  const out = new Map<string, Buffer>();
  for (const { level, index } of ids) {
    const h = store.get(nodeKey(level, index));
    if (h === undefined) throw new Error(`store lacks ${level}:${index}`);
    out.set(nodeKey(level, index), h);
  }
  return out;
}

/**
 * Appends leaf hashes to `store` as the gateway does: per batch, fetch only the nodes
 * `nodesNeededToExtend` names, compute the new complete nodes, store them and the leaves.
 */
export function appendLeaves(store: NodeStore, start: number, leafHashes: Buffer[]): void {
  const stored = pick(store, nodesNeededToExtend(start, leafHashes.length));
  const created = newCompleteNodes(start, leafHashes, stored);
  leafHashes.forEach((h, i) => store.set(nodeKey(0, start + i), h));
  // newCompleteNodes lists nodes by level, then index: the order a FlatStore needs.
  for (const [k, h] of created) store.set(k, h);
}

/** Is every node complete in a tree of `size` leaves? */
export function allComplete(ids: NodeId[], size: number): boolean {
  return ids.every(({ level, index }) => (index + 1) * 2 ** level <= size);
}

export function flipBit(b: Buffer, bit: number): Buffer {
  const c = Buffer.from(b);
  c[Math.floor(bit / 8) % c.length] ^= 1 << (bit % 8);
  return c;
}
