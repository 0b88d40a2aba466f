import type { WorldBoundingBox } from '../../datasets/metaimage-header';
import type { CheckedArtifact, EgressKind } from './egress-kind.types';
import { checkMetrics } from './metrics';
import { checkOpaque } from './opaque';
import { checkPredictions } from './predictions';

export interface EgressCheckContext {
  /** Test-split series the team may predict on, with their world boxes. */
  scans: ReadonlyMap<string, WorldBoundingBox>;
}

/** Runs the checker of kind's format. Throws EgressRejection when the artifact is refused. */
export function checkArtifact(bytes: Buffer, kind: EgressKind, context: EgressCheckContext): CheckedArtifact {
  switch (kind.format) {
    case 'predictions-csv':
      return checkPredictions(bytes, kind, context.scans);
    case 'metrics-json':
      return checkMetrics(bytes, kind);
    case 'opaque':
      return checkOpaque(bytes, kind);
  }
}
