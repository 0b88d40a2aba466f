import { type Database } from '../db/database';
import { type Budget } from '../policy/policy-files';
import { csvCell } from './csv';

export interface TeamReport {
  team: string;
  released: Record<string, number>;
  rejected: Record<string, number>;
  rejectedByReason: Record<string, number>;
  bitsReleased: number;
  bitsBudgetPerDay: number;
  bytesReadByDataset: Record<string, number>;
  readsDenied: number;
}

export interface Window {
  from: Date;
  to: Date;
}

/**
 * Reports a compliance officer hands a regulator: per team what was released and rejected (by
 * reason), bits used against the budget, bytes read per dataset; every policy activation; every
 * airlock decision. All of it is computed from the artifacts table and the audit leaves.
 */
export class ComplianceReports {
  constructor(private readonly db: Database) {}

  async teams(w: Window, budget: Budget): Promise<TeamReport[]> {
    const teams = new Map<string, TeamReport>();
    const team = (id: string) => {
      let t = teams.get(id);
      if (t === undefined) {
        t = {
          team: id,
          released: {},
          rejected: {},
          rejectedByReason: {},
          bitsReleased: 0,
          bitsBudgetPerDay: budget.dailyBits,
          bytesReadByDataset: {},
          readsDenied: 0,
        };
        teams.set(id, t);
      }
      return t;
    };
    const params = [w.from.toISOString(), w.to.toISOString()];
    const artifacts = await this.db.query<{ team_id: string; kind: string; status: string; bits: number; reasons: string }>(
      "SELECT team_id, kind, status, bits, reasons FROM egress_artifacts WHERE created_at >= $1 AND created_at < $2 AND status IN ('released', 'rejected')",
      params,
    );
    for (const a of artifacts.rows) {
      const t = team(a.team_id);
      if (a.status === 'released') {
        t.released[a.kind] = (t.released[a.kind] ?? 0) + 1;
        t.bitsReleased += Number(a.bits);
      } else {
        t.rejected[a.kind] = (t.rejected[a.kind] ?? 0) + 1;
        for (const r of JSON.parse(a.reasons) as { code: string }[]) t.rejectedByReason[r.code] = (t.rejectedByReason[r.code] ?? 0) + 1;
      }
    }
    const reads = await this.db.query<{
      team: string;
      dataset: string | null;
      decision: string;
      bytes: string | number;
      n: string | number;
    }>(
      `SELECT team, (leaf::jsonb -> 'resource' ->> 'dataset') AS dataset, decision, SUM((leaf::jsonb ->> 'bytes')::bigint) AS bytes, COUNT(*) AS n
       FROM audit_leaves WHERE action = 'read' AND team IS NOT NULL AND time >= $1 AND time < $2 GROUP BY 1, 2, 3`,
      params,
    );
    for (const r of reads.rows) {
      const t = team(r.team);
      if (r.decision === 'deny') t.readsDenied += Number(r.n);
      else if (r.dataset !== null) t.bytesReadByDataset[r.dataset] = (t.bytesReadByDataset[r.dataset] ?? 0) + Number(r.bytes);
    }
    return [...teams.values()]
      .sort((a, b) => (a.team < b.team ? -1 : 1))
      .map((t) => ({ ...t, bitsReleased: Math.round(t.bitsReleased * 1000) / 1000 }));
  }

  /** Audit leaves of the given actions in the window, oldest first (policy activations, airlock decisions). */
  async events(
    actions: string[],
    w: Window,
  ): Promise<
    {
      index: number;
      time: string;
      principal: string;
      team: string | null;
      action: string;
      decision: string;
      resource: string | null;
      detail: string;
    }[]
  > {
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
    return rows.map((r) => {
      const leaf = JSON.parse(r.leaf) as { resource: { id?: string } | null; detail: unknown; policySet: string | null };
      return {
        index: Number(r.idx),
        time: new Date(r.time).toISOString(),
        principal: r.principal,
        team: r.team,
        action: r.action,
        decision: r.decision,
        resource: leaf.resource?.id ?? leaf.policySet,
        detail: JSON.stringify(leaf.detail),
      };
    });
  }
}

/** Flattens rows of plain values and records into CSV (RFC 4180; records as JSON cells). */
export function toCsv(rows: Record<string, unknown>[]): string {
  if (rows.length === 0) return '';
  const head = Object.keys(rows[0]);
  return `${head.join(',')}\n${rows.map((r) => head.map((h) => csvCell(r[h])).join(',')).join('\n')}\n`;
}
