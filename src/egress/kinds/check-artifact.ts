import type { WorldBoundingBox } from '../../datasets/metaimage-header';
import type { CheckedArtifact, EgressKind } from './egress-kind.types';
import { EgressRejection } from './egress-rejection';
import { checkMetrics } from './metrics';
import { checkOpaque } from './opaque';
import { PredictionsChecker } from './predictions';

export interface EgressCheckContext {
  /** Test-split series the team may predict on, with their world boxes. */
  scans: ReadonlyMap<string, WorldBoundingBox>;
}

/**
 * A kind's checker, fed the body as it streams in. `push` throws EgressRejection at the first
 * broken rule (the caller stops reading there); `end` returns the canonical artifact or throws.
 */
export interface ArtifactChecker {
  push(chunk: Buffer): void;
  end(): CheckedArtifact;
}

/**
 * Kinds whose documents are small (metrics, capped at tens of KiB) or cannot be parsed (opaque)
 * are collected up to their size cap and checked whole; the cap is enforced per chunk.
 */
class CollectingChecker implements ArtifactChecker {
  private readonly chunks: Buffer[] = [];
  private bytes = 0;

  constructor(
    private readonly maxBytes: number,
    private readonly check: (bytes: Buffer) => CheckedArtifact,
  ) {}

  push(chunk: Buffer): void {
    this.bytes += chunk.length;
    if (this.bytes > this.maxBytes) throw new EgressRejection('too_large', `artifact is larger than the kind's limit of ${this.maxBytes} bytes`);
    this.chunks.push(chunk);
  }

  end(): CheckedArtifact {
    return this.check(this.chunks.length === 1 ? this.chunks[0] : Buffer.concat(this.chunks));
  }
}

/** The streaming checker of kind's format. */
export function artifactChecker(kind: EgressKind, context: EgressCheckContext): ArtifactChecker {
  switch (kind.format) {
    case 'predictions-csv':
      return new PredictionsChecker(kind, context.scans);
    case 'metrics-json':
      return new CollectingChecker(kind.maxBytes, (bytes) => checkMetrics(bytes, kind));
    case 'opaque':
      return new CollectingChecker(kind.maxBytes, (bytes) => checkOpaque(bytes, kind));
  }
}

/** Checks a whole artifact held in memory. Throws EgressRejection when it is refused. */
export function checkArtifact(bytes: Buffer, kind: EgressKind, context: EgressCheckContext): CheckedArtifact {
  const checker = artifactChecker(kind, context);
  checker.push(bytes);
  return checker.end();
}
