import { type ComplianceReportsRepository, type Window } from './compliance-reports.repository';
import { csvCell } from './csv';

export type { Window } from './compliance-reports.repository';

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

/**
 * Reports a compliance officer hands a regulator: per team what was released and rejected (by
 * reason), bits used against the budget, bytes read per dataset; every policy activation; every
 * airlock decision. All of it is computed from the artifacts table and the audit leaves.
 */
export class ComplianceReports {
  constructor(private readonly repo: ComplianceReportsRepository) {}

  /** `dailyBits`: the budget in force, shown beside what each team used. */
  async teams(w: Window, dailyBits: number): Promise<TeamReport[]> {
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
          bitsBudgetPerDay: dailyBits,
          bytesReadByDataset: {},
          readsDenied: 0,
        };
        teams.set(id, t);
      }
      return t;
    };
    for (const a of await this.repo.egressOutcomes(w)) {
      const t = team(a.team);
      if (a.status === 'released') {
        t.released[a.kind] = (t.released[a.kind] ?? 0) + 1;
        t.bitsReleased += a.bits;
      } else {
        t.rejected[a.kind] = (t.rejected[a.kind] ?? 0) + 1;
        for (const r of a.reasons) t.rejectedByReason[r.code] = (t.rejectedByReason[r.code] ?? 0) + 1;
      }
    }
    for (const r of await this.repo.readTotals(w)) {
      const t = team(r.team);
      if (r.decision === 'deny') t.readsDenied += r.count;
      else if (r.dataset !== null) t.bytesReadByDataset[r.dataset] = (t.bytesReadByDataset[r.dataset] ?? 0) + r.bytes;
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
    return (await this.repo.events(actions, w)).map((r) => {
      const leaf = JSON.parse(r.leaf) as { resource: { id?: string } | null; detail: unknown; policySet: string | null };
      return {
        index: r.index,
        time: r.time,
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
