/**
 * Every PostgreSQL advisory lock the gateway takes, in one place: (space, name) pairs, the name
 * hashed by the server (`hashtext`). Replicas of one deployment agree on these numbers; two
 * deployments sharing a database would not (they must not share one).
 */
export const LockSpace = {
  /** Migrations (transaction lock). */
  migrations: 7_162_001,
  /** Appending leaves: the next index is read under it (transaction lock). */
  auditAppend: 7_162_002,
  /** A team's egress, so two submissions cannot spend the same budget (transaction lock, name = team). */
  egressTeam: 7_162_003,
  /** Rotations and checkpoints (transaction lock). */
  keyRing: 7_162_012,
  /** A replica's start-up, from migrations to bootstrap: replicas started together take turns. */
  startup: 7_162_021,
  /** Policy activation: one at a time across replicas. */
  policy: 7_162_022,
  /** Held by each live replica for its lifetime (name = replica id): what it owns is not reconciled. */
  replica: 7_162_023,
  /** Reconciling a dead replica's work: one replica at a time. */
  reconcile: 7_162_024,
  /** A leaderboard's close (name = its kind): one at a time across replicas. */
  leaderboardClose: 7_162_025,
} as const;

export interface LockKey {
  space: number;
  /** Hashed by the server; '' for a lock of which there is one. */
  name: string;
}

/** A lock held by a session of its own until released, or until that session ends (a process that dies releases it). */
export interface HeldLock {
  release(): Promise<void>;
}
