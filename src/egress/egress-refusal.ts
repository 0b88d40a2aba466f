/** One reason an artifact was refused: a stable code, where, and a message that echoes nothing submitted. */
export interface RefusalReason {
  code: string;
  line?: number;
  field?: string;
  message: string;
}

/**
 * An egress refused before release: 413 (too large), 422 (content or policy), 429 (budget).
 * Carries the artifact id under which the refusal was logged, and for 429 what remains.
 */
export class EgressRefusal extends Error {
  constructor(
    readonly status: 404 | 413 | 422 | 429,
    readonly reasons: RefusalReason[],
    readonly artifactId: string | null,
    readonly remaining?: Record<string, number>,
  ) {
    super(reasons.map((r) => r.message).join('; '));
  }
}
