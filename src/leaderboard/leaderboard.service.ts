import { ConflictException, NotFoundException, UnprocessableEntityException } from '@nestjs/common';
import { type z } from 'zod';
import { type AuditLog, type RequestMeta } from '../audit/audit-log.service';
import { type Clock } from '../clock/clock';
import { type SubmissionsKind } from '../policy/egress-kinds/egress-kind.types';
import { type PolicyEngine } from '../policy/policy.types';
import { type UserPrincipal } from '../principal/principal';
import { type ObjectStore } from '../storage/object-store.service';
import { type EgressService } from '../egress/egress.service';
import { type LeaderboardScorer, SUBMISSIONS_BUCKET } from './leaderboard-scorer';
import { type LeaderboardRepository, type SubmissionRow } from './leaderboard.repository';
import { type leaderboard, type submissionView } from './leaderboard.dto';

const MAX_PREDICTIONS_BYTES = 64 * 1024 * 1024;

export type BoardRow = z.infer<typeof leaderboard>['public'][number];
export type Board = z.infer<typeof leaderboard>;
export type SubmissionView = z.infer<typeof submissionView>;

/**
 * The leaderboard people read and the organizers close. A contestant sees every team's shown
 * score (that is what a leaderboard is) and their own team's submissions as the Ladder showed
 * them, never an exact score; the private ranking appears only after the close.
 */
export class LeaderboardService {
  constructor(
    private readonly repo: LeaderboardRepository,
    private readonly scorer: LeaderboardScorer,
    private readonly store: ObjectStore,
    private readonly policy: PolicyEngine,
    private readonly audit: AuditLog,
    private readonly clock: Clock,
    private readonly egress: EgressService,
    /** Contestants see a submission once its publication slot has ended (CAGE_EGRESS_PUBLISH_SECONDS), as egress rows. */
    private readonly publishSeconds = 60,
  ) {}

  /** The start of the current publication slot: what a contestant may see was made before it. */
  private publishedBefore(): Date {
    const slot = this.publishSeconds * 1000;
    return new Date(Math.floor(this.clock.now().getTime() / slot) * slot);
  }

  /** The competition: the active policy's `predictions-score` kind. */
  competition(): SubmissionsKind {
    for (const k of this.policy.egress.kinds.values()) if (k.format === 'predictions-score') return k;
    throw new NotFoundException('no competition: the active policy has no predictions-score kind');
  }

  /** `user`: a contestant's board counts submissions whose publication slot has ended, as their receipts do. */
  async board(user?: UserPrincipal): Promise<Board> {
    const kind = this.competition();
    const rows = await this.repo.all(kind.kind, user?.role === 'contestant' ? this.publishedBefore() : undefined);
    const closed = await this.repo.closed(kind.kind);
    const byTeam = groupByTeam(rows);
    const publicRows = ranked(
      [...byTeam].map(([team, s]) => ({ team, score: Math.max(...s.map((r) => r.shownScore)), submissions: s.length })),
    );
    const privateRows =
      closed === undefined
        ? null
        : ranked(
            [...byTeam]
              .map(([team, s]) => ({ team, finals: s.filter((r) => r.privateScore !== null), submissions: s.length }))
              .filter((t) => t.finals.length > 0)
              .map((t) => ({ team: t.team, score: Math.max(...t.finals.map((r) => r.privateScore ?? 0)), submissions: t.submissions })),
          );
    return {
      competition: kind.kind,
      metric: kind.metric,
      ladderStep: kind.ladderStep,
      closed: closed !== undefined,
      closedAt: closed?.closedAt ?? null,
      public: publicRows,
      private: privateRows,
    };
  }

  async submissions(user: UserPrincipal, team: string | undefined): Promise<SubmissionView[]> {
    const kind = this.competition();
    const whose = user.role === 'contestant' ? (user.team ?? '') : team;
    if (user.role === 'contestant' && team !== undefined && team !== whose) return [];
    if (user.role !== 'contestant') {
      const rows = whose === undefined ? await this.repo.all(kind.kind) : await this.repo.forTeam(kind.kind, whose);
      return rows.map((r) => view(r, true));
    }
    // A contestant: published slots only, by day and then by the random id (no order within a day).
    const rows = await this.repo.forTeam(kind.kind, whose ?? '', this.publishedBefore());
    return rows.sort((a, b) => (a.day < b.day ? -1 : a.day > b.day ? 1 : a.id < b.id ? -1 : 1)).map((r) => view(r, false));
  }

  async select(user: UserPrincipal, id: string, selected: boolean, meta: RequestMeta): Promise<SubmissionView> {
    const kind = this.competition();
    const row = await this.repo.get(id);
    if (row === undefined || row.kind !== kind.kind || (user.role === 'contestant' && row.team !== user.team))
      throw new NotFoundException(`no submission ${id}`);
    // Under the close's lock: a selection either lands before the close reads the finals, or is refused.
    const r = await this.repo.withCloseLock(kind.kind, async () => {
      if ((await this.repo.closed(kind.kind)) !== undefined) throw new ConflictException('the competition is closed: selections are final');
      return this.repo.select(id, selected, kind.selections);
    });
    if (r === 'missing') throw new NotFoundException(`no submission ${id}`);
    if (r === 'over_limit')
      throw new UnprocessableEntityException(`a team selects at most ${kind.selections} submissions; unselect one first`);
    await this.audit.record(meta, {
      principal: user.sub,
      team: row.team,
      action: selected ? 'submission.select' : 'submission.unselect',
      decision: 'allow',
      resource: { type: 'submission', id },
      detail: { submission: id },
    });
    return view({ ...row, selected }, user.role !== 'contestant');
  }

  /**
   * Closes the competition: each team's final submissions (those it selected; none selected: its
   * best public score, the earliest of equals) are scored on the private part; the ranking is
   * published and logged. Once only (409 after).
   */
  async close(user: UserPrincipal, meta: RequestMeta): Promise<Board> {
    const kind = this.competition();
    return this.repo.withCloseLock(kind.kind, async () => {
      if ((await this.repo.closed(kind.kind)) !== undefined) throw new ConflictException('the competition is closed already');
      const rows = await this.repo.all(kind.kind);
      const finals: { row: SubmissionRow; predictions: Buffer; privateScore: number }[] = [];
      const scans = { public: 0, private: 0 };
      // No submissions, nothing to score: the close needs the labels only when there is a final.
      if (rows.length > 0) {
        const parts = await this.scorer.parts(kind);
        Object.assign(scans, { public: parts.public.size, private: parts.private.size });
        for (const [, s] of groupByTeam(rows)) {
          const chosen = s.filter((r) => r.selected);
          for (const row of chosen.length > 0 ? chosen : [s.reduce((best, r) => (r.publicScore > best.publicScore ? r : best))]) {
            const predictions = await this.store.getBuffer(SUBMISSIONS_BUCKET, row.storedKey, MAX_PREDICTIONS_BYTES);
            finals.push({ row, predictions, privateScore: this.scorer.compute(kind, parts.labels, predictions, parts.private) });
          }
        }
      }
      // The finals' predictions, for organizers only, behind the two-person airlock. A close that
      // fails before it commits voids what it held (a retry holds them again).
      const held: { submission: string; artifact: string }[] = [];
      try {
        return await this.holdAndCommit(user, kind, rows, finals, scans, held, meta);
      } catch (err) {
        for (const h of held) await this.egress.voidHeld(h.artifact, meta).catch(() => undefined);
        throw err;
      }
    });
  }

  private async holdAndCommit(
    user: UserPrincipal,
    kind: SubmissionsKind,
    rows: SubmissionRow[],
    finals: { row: SubmissionRow; predictions: Buffer; privateScore: number }[],
    scans: { public: number; private: number },
    held: { submission: string; artifact: string }[],
    meta: RequestMeta,
  ): Promise<Board> {
    for (const f of finals) {
      const artifact = await this.egress.holdForOrganizers(
        {
          team: f.row.team,
          jobId: f.row.jobId,
          kind: kind.kind,
          canonical: f.predictions,
          by: user.sub,
        },
        meta,
      );
      held.push({ submission: f.row.id, artifact });
    }
    const privateRanking = ranked(
      [...groupByTeam(finals.map((f) => ({ ...f.row, privateScore: f.privateScore })))].map(([team, s]) => ({
        team,
        score: Math.max(...s.map((r) => r.privateScore ?? 0)),
        submissions: rows.filter((r) => r.team === team).length,
      })),
    );
    // Logged before it is committed (one close at a time: the lock).
    await this.audit.record(meta, {
      principal: user.sub,
      team: null,
      action: 'leaderboard.close',
      decision: 'allow',
      resource: { type: 'competition', id: kind.kind },
      detail: {
        finals: finals.map((f) => ({
          submission: f.row.id,
          team: f.row.team,
          privateScore: f.privateScore,
          heldFor: held.find((h) => h.submission === f.row.id)?.artifact ?? '',
        })),
        ranking: privateRanking.map((r) => ({ rank: r.rank, team: r.team, score: r.score })),
        privateScans: scans.private,
        publicScans: scans.public,
      },
    });
    await this.repo.close(kind.kind, this.clock.now(), user.sub, new Map(finals.map((f) => [f.row.id, f.privateScore])));
    return this.board();
  }
}

function groupByTeam(rows: SubmissionRow[]): Map<string, SubmissionRow[]> {
  const m = new Map<string, SubmissionRow[]>();
  for (const r of rows) m.set(r.team, [...(m.get(r.team) ?? []), r]);
  return m;
}

/** Best first; equal scores share a rank (1, 2, 2, 4), listed by team id. */
function ranked(rows: { team: string; score: number; submissions: number }[]): BoardRow[] {
  const sorted = [...rows].sort((a, b) => b.score - a.score || (a.team < b.team ? -1 : a.team > b.team ? 1 : 0));
  return sorted.map((r) => ({ ...r, rank: sorted.findIndex((x) => x.score === r.score) + 1 }));
}

function view(r: SubmissionRow, exact: boolean): SubmissionView {
  return {
    id: r.id,
    team: r.team,
    day: r.day,
    shownScore: r.shownScore,
    improved: r.improved,
    selected: r.selected,
    ...(exact ? { publicScore: r.publicScore, privateScore: r.privateScore } : {}),
  };
}
