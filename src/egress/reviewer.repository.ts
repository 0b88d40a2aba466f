import { type Database, type Queryable } from '../db/database';

/** Who gave an airlock review: the person, exactly as membership knows them, and their token. */
export interface ReviewerIdentity {
  /** `user:<sub>`: how reviews, the audit log and `jobs.created_by` name the person. */
  reviewer: string;
  /** The JWT subject as issued, and its issuer ('' for the gateway's own tokens). */
  subject: string;
  issuer: string;
  role: string;
  /** The team claim of the token the review was given with, or null. */
  tokenTeam: string | null;
}

/**
 * Who each review came from. A review row names the reviewer only as `user:<sub>`, which does not
 * say at which issuer; approvals are decided again at release, on these.
 */
export class ReviewerRepository {
  constructor(private readonly db: Database) {}

  /** Stores a review (through `storeReview`) and who gave it in one transaction: never one alone. */
  async addWithIdentity(artifactId: string, who: ReviewerIdentity, storeReview: (tx: Queryable) => Promise<void>): Promise<void> {
    await this.db.transaction(async (tx) => {
      await storeReview(tx);
      await tx.query(
        'INSERT INTO egress_reviewers (artifact_id, reviewer, subject, issuer, role, token_team) VALUES ($1, $2, $3, $4, $5, $6)',
        [artifactId, who.reviewer, who.subject, who.issuer, who.role, who.tokenTeam],
      );
    });
  }

  /** reviewer (`user:<sub>`) → who they are, for the reviews of one artifact. */
  async identities(artifactId: string): Promise<Map<string, ReviewerIdentity>> {
    const { rows } = await this.db.query<{ reviewer: string; subject: string; issuer: string; role: string; token_team: string | null }>(
      'SELECT reviewer, subject, issuer, role, token_team FROM egress_reviewers WHERE artifact_id = $1',
      [artifactId],
    );
    return new Map(
      rows.map((r) => [r.reviewer, { reviewer: r.reviewer, subject: r.subject, issuer: r.issuer, role: r.role, tokenTeam: r.token_team }]),
    );
  }
}
