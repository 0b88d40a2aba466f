/*
 * Who is asking: the principal types every layer names (people and jobs), kept at the bottom so
 * services and repositories need not import the authentication that produces them.
 */

export const ROLES = ['organizer', 'auditor', 'contestant'] as const;
export type Role = (typeof ROLES)[number];

export interface UserPrincipal {
  kind: 'user';
  /**
   * The name the audit log and `created_by` columns give the person (`user:<sub>`): the JWT
   * subject of the gateway's own tokens, `<subject>@<issuer>` for an external issuer's.
   */
  sub: string;
  role: Role;
  team: string | null;
  /**
   * The person as team membership knows them, exactly: the JWT subject as issued and its issuer
   * ('' for the gateway's own tokens). Both verifiers set them; a principal built without them
   * (in-process callers, tests) is a gateway-token person (see personOf).
   */
  subject?: string;
  issuer?: string;
  /** The gateway's own tokens: the token's id (jti) and when it was issued, for revocation. */
  tokenId?: string;
  issuedAt?: Date;
  /** The gateway's own tokens: when the token expires (a refresh keeps its lifetime). */
  expiresAt?: Date;
  /** The gateway's own tokens: when the first token of its refresh chain was issued (`auth_time`). */
  sessionStart?: Date;
}

/** The (subject, issuer) pair team membership is keyed on, exactly. */
export function personOf(user: UserPrincipal): { subject: string; issuer: string } {
  return { subject: user.subject ?? user.sub, issuer: user.issuer ?? '' };
}

export interface JobPrincipal {
  kind: 'job';
  jobId: string;
  team: string;
  expiresAt: Date;
}

export type Principal = UserPrincipal | JobPrincipal;

/** Longest a user token may live; job tokens are capped by their job's expiry. */
export const MAX_USER_TTL_S = 366 * 24 * 3600;

/**
 * A user token's lifetime when its issuer names none: a working day for the people who run the
 * competition and read its log, a week for a contestant. A holder renews theirs before it
 * expires (`cage token refresh`), so a lost token is good for a day or a week, not a year.
 */
/** How long after its first token a chain of refreshes may go on; then an organizer issues a new one. */
export const REFRESH_LIMIT_S = 30 * 24 * 3600;

export const DEFAULT_USER_TTL_S: Record<Role, number> = {
  organizer: 12 * 3600,
  auditor: 12 * 3600,
  contestant: 7 * 24 * 3600,
};

/** How a person appears as the principal of an audit leaf. */
export function actor(user: UserPrincipal): string {
  return `user:${user.sub}`;
}
