import { EgressRepository } from '../../src/egress/egress.repository';
import { LeaderboardRepository, type SubmissionRow } from '../../src/leaderboard/leaderboard.repository';
import { type Fixture } from './fixture';

/**
 * A leaderboard submission as if scored and released (its row and its released egress row), for
 * tests of what people see of the board; test/leaderboard.integration.test.ts makes real ones.
 */
export async function releasedSubmission(
  f: Fixture,
  s: { id: string; team: 'alpha' | 'beta'; shown: number; publicScore?: number; createdAt?: Date },
): Promise<SubmissionRow> {
  const at = (s.createdAt ?? new Date(Date.now() - 3_600_000)).toISOString();
  const row: SubmissionRow = {
    id: s.id,
    kind: 'submissions',
    team: s.team,
    jobId: s.team === 'beta' ? f.beta.jobId : f.alpha.jobId,
    day: at.slice(0, 10),
    createdAt: at,
    predictionsSha256: '0'.repeat(64),
    storedKey: `${s.team}/${s.id}.csv`,
    publicScore: s.publicScore ?? s.shown + 0.003,
    shownScore: s.shown,
    improved: true,
    privateScore: null,
    selected: false,
  };
  await f.gateway.get(LeaderboardRepository).insert(f.db, row);
  await f.gateway.get(EgressRepository).insert(f.db, {
    id: s.id,
    team: s.team,
    jobId: row.jobId,
    kind: 'submissions',
    status: 'released',
    day: row.day,
    submittedSha256: row.predictionsSha256,
    submittedBytes: 100,
    sha256: '1'.repeat(64),
    bytes: 60,
    bits: 22.165,
    reasons: [],
    outboxKey: `${s.team}/submissions/${s.id}.json`,
    createdAt: at,
  });
  return row;
}
