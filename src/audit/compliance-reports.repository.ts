import { type Database } from '../db/database';

export interface Window {
  from: Date;
  to: Date;
}

export interface LeafEvent {
  index: number;
  time: string;
  principal: string;
  team: string | null;
  action: string;
  decision: string;
  /** The leaf's JSON, as logged. */
  leaf: string;
}

/** The queries behind the compliance reports: egress outcomes and read totals per team, and leaves of given actions. */
export class ComplianceReportsRepository {
  constructor(private readonly db: Database) {}

  /** Released and rejected egress rows made in the window. */
  async egressOutcomes(
    w: Window,
  ): Promise<{ team: string; kind: string; status: 'released' | 'rejected'; bits: number; reasons: { code: string }[] }[]> {
    const { rows } = await this.db.query<{ team_id: string; kind: string; status: 'released' | 'rejected'; bits: number; reasons: string }>(
      // Organizer-only artifacts (a closed leaderboard's finals) left the cage to organizers, not to the team.
      `SELECT team_id, kind, status, bits, reasons FROM egress_artifacts WHERE created_at >= $1 AND created_at < $2 AND status IN ('released', 'rejected')
       AND NOT EXISTS (SELECT 1 FROM organizer_only_artifacts o WHERE o.id = egress_artifacts.id)`,
      [w.from.toISOString(), w.to.toISOString()],
    );
    return rows.map((r) => ({
      team: r.team_id,
      kind: r.kind,
      status: r.status,
      bits: Number(r.bits),
      reasons: JSON.parse(r.reasons) as { code: string }[],
    }));
  }

  /** Read leaves in the window, per team, dataset and decision: how many and how many bytes. */
  async readTotals(w: Window): Promise<{ team: string; dataset: string | null; decision: string; bytes: number; count: number }[]> {
    const { rows } = await this.db.query<{
      team: string;
      dataset: string | null;
      decision: string;
      bytes: string | number;
      n: string | number;
    }>(
      `SELECT team, (leaf::jsonb -> 'resource' ->> 'dataset') AS dataset, decision, SUM((leaf::jsonb ->> 'bytes')::bigint) AS bytes, COUNT(*) AS n
       FROM audit_leaves WHERE action = 'read' AND team IS NOT NULL AND time >= $1 AND time < $2 GROUP BY 1, 2, 3`,
      [w.from.toISOString(), w.to.toISOString()],
    );
    return rows.map((r) => ({ team: r.team, dataset: r.dataset, decision: r.decision, bytes: Number(r.bytes), count: Number(r.n) }));
  }

  /** Leaves of the given actions in the window, oldest first. */
  async events(actions: string[], w: Window): Promise<LeafEvent[]> {
    const { rows } = await this.db.query<{
      idx: string | number;
      time: string | Date;
      principal: string;
      team: string | null;
      action: string;
      decision: string;
      leaf: string;
    }>(
      'SELECT idx, time, principal, team, action, decision, leaf FROM audit_leaves WHERE action = ANY($1::text[]) AND time >= $2 AND time < $3 ORDER BY idx',
      [actions, w.from.toISOString(), w.to.toISOString()],
    );
    return rows.map((r) => ({
      index: Number(r.idx),
      time: new Date(r.time).toISOString(),
      principal: r.principal,
      team: r.team,
      action: r.action,
      decision: r.decision,
      leaf: r.leaf,
    }));
  }
}
