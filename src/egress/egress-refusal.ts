import { AnsweredError, type HttpAnswer } from '../ops/http-answer';
/** One reason an artifact was refused: a stable code, where, and a message that echoes nothing submitted. */
export interface RefusalReason {
  code: string;
  line?: number;
  field?: string;
  message: string;
}

/**
 * An egress refused before release: 413 (too large), 422 (content or policy), 429 (budget, cap
 * or too many at once: no reasons). Carries the artifact id under which the refusal was logged
 * (null when no row was made), for 429 what remains, and whether the body was left unread (the
 * connection is then closed after the answer instead of reading the rest).
 */
export class EgressRefusal extends AnsweredError {
  constructor(
    readonly status: 404 | 413 | 422 | 429,
    readonly reasons: RefusalReason[],
    readonly artifactId: string | null,
    readonly remaining?: Record<string, number>,
    readonly bodyUnread = false,
  ) {
    super(
      reasons.length > 0
        ? reasons.map((r) => r.message).join('; ')
        : status === 429
          ? 'over the daily limits for this kind, or too many uploads at once'
          : 'refused',
    );
  }

  answer(): HttpAnswer {
    return {
      status: this.status,
      message: this.message,
      body: { artifactId: this.artifactId, reasons: this.reasons, ...(this.remaining === undefined ? {} : { remaining: this.remaining }) },
      // A body left unread is not drained: the connection closes after the answer.
      closeConnection: this.bodyUnread || this.status === 413,
    };
  }
}
