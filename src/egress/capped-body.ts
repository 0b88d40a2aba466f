import { createHash } from 'node:crypto';
import { type Readable } from 'node:stream';

export interface CappedBody {
  bytes: Buffer;
  /** SHA-256 (hex) of the bytes read (all of them unless the cap was passed). */
  sha256: string;
  /** True when the body was longer than the cap: reading stopped there. */
  overflow: boolean;
}

/**
 * Reads a request body up to `cap` bytes, hashing as it goes. It stops at the cap instead of
 * buffering whatever a client sends: the size limit is enforced while streaming.
 */
export async function readCapped(body: Readable, cap: number): Promise<CappedBody> {
  const hash = createHash('sha256');
  const chunks: Buffer[] = [];
  let total = 0;
  for await (const chunk of body) {
    const c = chunk as Buffer;
    if (total + c.length > cap) {
      const fits = c.subarray(0, cap - total);
      hash.update(fits);
      chunks.push(fits);
      return { bytes: Buffer.concat(chunks), sha256: hash.digest('hex'), overflow: true };
    }
    hash.update(c);
    chunks.push(c);
    total += c.length;
  }
  return { bytes: Buffer.concat(chunks), sha256: hash.digest('hex'), overflow: false };
}
