import type { CheckedArtifact, OpaqueKind } from '../../policy/egress-kinds/egress-kind.types';
import { EgressRejection } from './egress-rejection';

/**
 * Opaque artifacts (trained weights) cannot be checked by eye or by parser, so they are not
 * rewritten: the canonical bytes are the submitted bytes (the same Buffer, not a copy), and the
 * charge is their full capacity, 8 bits per byte. Whether such a kind may leave at all, and
 * after whose review, is policy's decision (SATRE 3.3.07: a written policy for outputs a
 * person cannot check).
 */
export function checkOpaque(bytes: Buffer, kind: OpaqueKind): CheckedArtifact {
  if (bytes.length > kind.maxBytes)
    throw new EgressRejection('too_large', `artifact is larger than the kind's limit of ${kind.maxBytes} bytes`);
  if (bytes.length === 0) throw new EgressRejection('empty', 'artifact is empty');
  return { canonical: bytes, bits: 8 * bytes.length, rows: 0, summary: { bytes: bytes.length } };
}
