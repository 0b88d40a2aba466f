import type { WorldBoundingBox } from '../../datasets/metaimage-header';
import type { CheckedArtifact, EgressKind } from '../../policy/egress-kinds/egress-kind.types';
import { EgressOverBudget, EgressRejection } from './egress-rejection';
import { checkMetrics } from './metrics';
import { checkOpaque } from './opaque';
import { PredictionsChecker } from './predictions';

export interface EgressCheckContext {
  /** Test-split series the team may predict on, with their world boxes. */
  scans: ReadonlyMap<string, WorldBoundingBox>;
  /** Bits the team has left today: reading stops with EgressOverBudget once the artifact must carry more. */
  maxBits?: number;
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

  /** `bitsPerByte`: opaque bytes carry 8 each, so their size alone can exceed the bits left. */
  constructor(
    private readonly maxBytes: number,
    private readonly check: (bytes: Buffer) => CheckedArtifact,
    private readonly overBudgetAt = Infinity,
  ) {}

  push(chunk: Buffer): void {
    this.bytes += chunk.length;
    if (this.bytes > this.maxBytes)
      throw new EgressRejection('too_large', `artifact is larger than the kind's limit of ${this.maxBytes} bytes`);
    if (this.bytes > this.overBudgetAt) throw new EgressOverBudget();
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
      return new PredictionsChecker(kind, context.scans, context.maxBits);
    case 'predictions-score':
      // The predictions stay inside (only their score leaves): their bits are not the budget's.
      return new PredictionsChecker({ ...kind, format: 'predictions-csv' }, context.scans);
    case 'metrics-json':
      // At most tens of KiB: checked whole, its bits decided with the budget afterwards.
      return new CollectingChecker(kind.maxBytes, (bytes) => checkMetrics(bytes, kind));
    case 'opaque':
      return new CollectingChecker(
        kind.maxBytes,
        (bytes) => checkOpaque(bytes, kind),
        context.maxBits === undefined ? Infinity : Math.floor(context.maxBits / 8),
      );
  }
}

/** Checks a whole artifact held in memory. Throws EgressRejection when it is refused. */
export function checkArtifact(bytes: Buffer, kind: EgressKind, context: EgressCheckContext): CheckedArtifact {
  const checker = artifactChecker(kind, context);
  checker.push(bytes);
  return checker.end();
}
