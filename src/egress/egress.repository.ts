import { LockSpace } from '../db/advisory-locks';
import { type Database, type Queryable } from '../db/database';
import { type ArtifactRow, type ReviewRow } from './egress.dto';

/** An egress row, as stored and as organizers and auditors read it (the shape: egress.dto.ts). */
export type Artifact = ArtifactRow;
export type ArtifactStatus = Artifact['status'];
export type Review = ReviewRow;

interface Row {
  id: string;
  team_id: string;
  job_id: string;
  kind: string;
  status: ArtifactStatus;
  day: string | Date;
  submitted_sha256: string;
  submitted_bytes: string | number;
  sha256: string | null;
  bytes: string | number | null;
  bits: number;
  reasons: string;
  outbox_key: string | null;
  audit_index: string | number | null;
  created_at: string | Date;
  decided_at: string | Date | null;
  owner: string | null;
}

const COLUMNS =
  'id, team_id, job_id, kind, status, day, submitted_sha256, submitted_bytes, sha256, bytes, bits, reasons, outbox_key, audit_index, created_at, decided_at, owner';

function fromRow(r: Row): Artifact {
  return {
    id: r.id,
    team: r.team_id,
    jobId: r.job_id,
    kind: r.kind,
    status: r.status,
    day: typeof r.day === 'string' ? r.day.slice(0, 10) : r.day.toISOString().slice(0, 10),
    submittedSha256: r.submitted_sha256,
    submittedBytes: Number(r.submitted_bytes),
    sha256: r.sha256,
    bytes: r.bytes === null ? null : Number(r.bytes),
    bits: Number(r.bits),
    reasons: JSON.parse(r.reasons) as Artifact['reasons'],
    outboxKey: r.outbox_key,
    auditIndex: r.audit_index === null ? null : Number(r.audit_index),
    createdAt: new Date(r.created_at).toISOString(),
    decidedAt: r.decided_at === null ? null : new Date(r.decided_at).toISOString(),
  };
}

/** Egress artifacts and their reviews. */
export class EgressRepository {
  constructor(
    private readonly db: Database,
    /** The replica that carries out the releases this process starts (db/replica.ts): stamped on each `releasing` row. */
    private readonly owner: string | null = null,
  ) {}

  get database(): Queryable {
    return this.db;
  }

  /**
   * Runs fn with the team's egress serialized (advisory lock on the team), so two concurrent
   * submissions cannot both spend the same remaining budget.
   */
  withTeamLock<T>(team: string, fn: (tx: Queryable) => Promise<T>): Promise<T> {
    return this.db.transaction(async (tx) => {
      await tx.query('SELECT pg_advisory_xact_lock($1, hashtext($2))', [LockSpace.egressTeam, team]);
      return fn(tx);
    });
  }

  /**
   * Bits charged to the team on `day`, and its attempts of a kind. Every row the job's behaviour
   * decided counts (released, held, refused, rejected by review); `failed` (the gateway could
   * not log or store it) is the gateway's fault and costs the team nothing.
   */
  async usage(q: Queryable, team: string, day: string, kind: string): Promise<{ bits: number; submissions: number }> {
    const { rows } = await q.query<{ bits: number | null; kind_count: string | number }>(
      `SELECT COALESCE(SUM(bits), 0) AS bits, COUNT(*) FILTER (WHERE kind = $3) AS kind_count FROM egress_artifacts
       WHERE team_id = $1 AND day = $2 AND status <> 'failed' AND NOT EXISTS (SELECT 1 FROM organizer_only_artifacts o WHERE o.id = egress_artifacts.id)`,
      [team, day, kind],
    );
    return { bits: Number(rows[0]?.bits ?? 0), submissions: Number(rows[0]?.kind_count ?? 0) };
  }

  async usageByKind(team: string, day: string): Promise<{ bits: number; byKind: Record<string, number> }> {
    const { rows } = await this.db.query<{ kind: string; bits: number; n: string | number }>(
      `SELECT kind, COALESCE(SUM(bits), 0) AS bits, COUNT(*) AS n FROM egress_artifacts
       WHERE team_id = $1 AND day = $2 AND status <> 'failed' AND NOT EXISTS (SELECT 1 FROM organizer_only_artifacts o WHERE o.id = egress_artifacts.id) GROUP BY kind`,
      [team, day],
    );
    return { bits: rows.reduce((a, r) => a + Number(r.bits), 0), byKind: Object.fromEntries(rows.map((r) => [r.kind, Number(r.n)])) };
  }

  async insert(q: Queryable, a: Omit<Artifact, 'decidedAt' | 'auditIndex'> & { decidedAt?: string | null }): Promise<void> {
    await q.query(
      `INSERT INTO egress_artifacts (id, team_id, job_id, kind, status, day, submitted_sha256, submitted_bytes, sha256, bytes, bits, reasons, outbox_key, created_at, decided_at, owner)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, CASE WHEN $5 = 'releasing' THEN $16::text END)`,
      [
        a.id,
        a.team,
        a.jobId,
        a.kind,
        a.status,
        a.day,
        a.submittedSha256,
        a.submittedBytes,
        a.sha256,
        a.bytes,
        a.bits,
        JSON.stringify(a.reasons),
        a.outboxKey,
        a.createdAt,
        a.decidedAt ?? null,
        this.owner,
      ],
    );
  }

  /** Moves an artifact from one status to another; false if it was not in `from` (a lost race). */
  async transition(
    id: string,
    from: ArtifactStatus[],
    to: ArtifactStatus,
    at: Date,
    auditIndex?: number,
    q: Queryable = this.db,
  ): Promise<boolean> {
    const r = await q.query(
      `UPDATE egress_artifacts SET status = $2, decided_at = $3, audit_index = COALESCE($4, audit_index),
         owner = CASE WHEN $2 = 'releasing' THEN $6::text ELSE owner END
       WHERE id = $1 AND status = ANY($5::text[])`,
      [id, to, at.toISOString(), auditIndex ?? null, from, this.owner],
    );
    return r.rowCount > 0;
  }

  async setAuditIndex(id: string, auditIndex: number): Promise<void> {
    await this.db.query('UPDATE egress_artifacts SET audit_index = $2 WHERE id = $1', [id, auditIndex]);
  }

  /** Marks an artifact as for organizers only (in the transaction that inserts it). */
  async markOrganizerOnly(q: Queryable, id: string): Promise<void> {
    await q.query('INSERT INTO organizer_only_artifacts (id) VALUES ($1)', [id]);
  }

  async isOrganizerOnly(id: string): Promise<boolean> {
    const { rows } = await this.db.query('SELECT 1 FROM organizer_only_artifacts WHERE id = $1', [id]);
    return rows.length > 0;
  }

  async get(id: string): Promise<Artifact | undefined> {
    const { rows } = await this.db.query<Row>(`SELECT ${COLUMNS} FROM egress_artifacts WHERE id = $1`, [id]);
    return rows[0] === undefined ? undefined : fromRow(rows[0]);
  }

  /**
   * Artifacts oldest first, or with `byDay` by UTC day and then by id (random): an order that
   * says nothing about when in a day, or in which order, a team submitted.
   */
  async list(q: {
    team?: string;
    status?: ArtifactStatus;
    kind?: string;
    after?: string;
    limit: number;
    byDay?: boolean;
    publishedBefore?: Date;
  }): Promise<Artifact[]> {
    const order = q.byDay === true ? 'day, id' : 'created_at, id';
    const where: string[] = [];
    const params: unknown[] = [];
    const add = (sql: string, v: unknown) => {
      params.push(v);
      where.push(sql.replace('?', `$${params.length}`));
    };
    if (q.team !== undefined) add('team_id = ?', q.team);
    if (q.status !== undefined) add('status = ?', q.status);
    if (q.kind !== undefined) add('kind = ?', q.kind);
    // A cursor is an id of the same listing: of another team it matches nothing.
    if (q.after !== undefined)
      add(`(${order}) > (SELECT ${order} FROM egress_artifacts WHERE id = ?${q.team === undefined ? '' : ' AND team_id = $1'})`, q.after);
    if (q.publishedBefore !== undefined) {
      add('created_at < ?', q.publishedBefore.toISOString());
      where.push("audit_index IS NOT NULL AND status <> 'failed'");
      // A team's view: never what is for organizers only.
      where.push(`NOT EXISTS (SELECT 1 FROM organizer_only_artifacts o WHERE o.id = egress_artifacts.id)`);
    }
    params.push(q.limit);
    const { rows } = await this.db.query<Row>(
      `SELECT ${COLUMNS} FROM egress_artifacts ${where.length > 0 ? `WHERE ${where.join(' AND ')}` : ''} ORDER BY ${order} LIMIT $${params.length}`,
      params,
    );
    return rows.map(fromRow);
  }

  /** Runs fn while no other replica reconciles the outbox. */
  withReconcileLock<T>(fn: () => Promise<T>): Promise<T> {
    return this.db.withLock({ space: LockSpace.reconcile, name: '' }, fn);
  }

  /** Releases under way, each with the replica carrying it out. */
  async releasing(): Promise<(Artifact & { owner: string | null })[]> {
    const { rows } = await this.db.query<Row>(`SELECT ${COLUMNS} FROM egress_artifacts WHERE status = 'releasing' ORDER BY created_at`);
    return rows.map((r) => ({ ...fromRow(r), owner: r.owner }));
  }

  async byStatus(status: ArtifactStatus): Promise<Artifact[]> {
    const { rows } = await this.db.query<Row>(`SELECT ${COLUMNS} FROM egress_artifacts WHERE status = $1 ORDER BY created_at`, [status]);
    return rows.map(fromRow);
  }

  /** Outbox keys with a release leaf: released, or being released (its owner writes the object after the leaf). */
  async releasedKeys(): Promise<Set<string>> {
    const { rows } = await this.db.query<{ outbox_key: string }>(
      "SELECT outbox_key FROM egress_artifacts WHERE status IN ('released', 'releasing') AND audit_index IS NOT NULL AND outbox_key IS NOT NULL",
    );
    return new Set(rows.map((r) => r.outbox_key));
  }

  async reviews(id: string): Promise<Review[]> {
    const { rows } = await this.db.query<{
      reviewer: string;
      decision: 'approve' | 'reject';
      comment: string;
      created_at: string | Date;
      audit_index: string | number;
    }>('SELECT reviewer, decision, comment, created_at, audit_index FROM egress_reviews WHERE artifact_id = $1 ORDER BY created_at', [id]);
    return rows.map((r) => ({
      reviewer: r.reviewer,
      decision: r.decision,
      comment: r.comment,
      createdAt: new Date(r.created_at).toISOString(),
      auditIndex: Number(r.audit_index),
    }));
  }

  async addReview(q: Queryable, id: string, r: Review): Promise<void> {
    await q.query(
      'INSERT INTO egress_reviews (artifact_id, reviewer, decision, comment, created_at, audit_index) VALUES ($1, $2, $3, $4, $5, $6)',
      [id, r.reviewer, r.decision, r.comment, r.createdAt, r.auditIndex],
    );
  }
}
