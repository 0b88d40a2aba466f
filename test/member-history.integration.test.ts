import { canonicalJson, leafHash } from '../src/audit/audit-leaf';
import { type Database } from '../src/db/database';
import { loadMigrations, migrate } from '../src/db/migrator';
import { TeamRepository } from '../src/teams/team.repository';
import { DB_KINDS, openTestDatabase } from './support/backends';

/** Former memberships: what makes "was a member of the submitting team" decidable for the airlock. */
describe.each(DB_KINDS)('team membership history on %s', (kind) => {
  let db: Database;
  let drop: () => Promise<void>;
  let teams: TeamRepository;
  const at = new Date('2026-11-02T10:00:00Z');

  beforeAll(async () => {
    ({ db, drop } = await openTestDatabase(kind));
    // A database from before membership history: a member was removed, and only the log knows.
    await migrate(
      db,
      loadMigrations().filter((m) => m.version < '0009'),
    );
    await db.query(
      "INSERT INTO teams (id, name, created_at, created_by) VALUES ('beta', 'Beta', $1, 'test'), ('gamma', 'Gamma', $1, 'test')",
      [at.toISOString()],
    );
    const leaf = {
      v: 1,
      time: at.toISOString(),
      requestId: 'r1',
      principal: 'user:olga',
      team: 'beta',
      listener: 'control',
      action: 'team.member.remove',
      decision: 'allow',
      status: null,
      resource: { type: 'team', id: 'beta' },
      range: null,
      policies: [],
      policySet: null,
      bytes: 0,
      sha256: null,
      detail: { before: { subject: 'old', issuer: 'https://idp.example/' } },
    };
    const text = canonicalJson(leaf);
    await db.query(
      'INSERT INTO audit_leaves (idx, leaf, leaf_hash, time, request_id, principal, team, action, decision) VALUES (0, $1, $2, $3, $4, $5, $6, $7, $8)',
      [text, leafHash(text), at.toISOString(), 'r1', leaf.principal, leaf.team, leaf.action, leaf.decision],
    );
    expect(await migrate(db)).toEqual(
      loadMigrations()
        .filter((m) => m.version >= '0009')
        .map((m) => m.version),
    );
    teams = new TeamRepository(db);
  });
  afterAll(async () => {
    await drop?.();
  });

  it('recovers memberships ended before history was kept from the audit log', async () => {
    expect(await teams.teamsEverOf('old', 'https://idp.example/')).toEqual([{ team: 'beta', current: false }]);
    const { rows } = await db.query<{ removed_by: string; removed_at: Date | string }>(
      "SELECT removed_by, removed_at FROM team_former_members WHERE subject = 'old'",
    );
    expect(rows.map((r) => ({ by: r.removed_by, at: new Date(r.removed_at).toISOString() }))).toEqual([
      { by: 'user:olga', at: at.toISOString() },
    ]);
  });

  it('keeps a removed member as a former one, and a re-added one as current', async () => {
    await teams.addMember({ team: 'beta', subject: 'fay', issuer: '' }, at, 'user:olga');
    await teams.addMember({ team: 'gamma', subject: 'fay', issuer: '' }, at, 'user:olga');
    expect(await teams.removeMember('beta', 'fay', '', new Date(at.getTime() + 1000), 'user:olga')).toBe(true);
    expect(await teams.removeMember('beta', 'fay', '', new Date(at.getTime() + 2000), 'user:olga')).toBe(false);
    expect(await teams.teamsOf('fay', '')).toEqual(['gamma']);
    expect(await teams.teamsEverOf('fay', '')).toEqual([
      { team: 'beta', current: false },
      { team: 'gamma', current: true },
    ]);
    const { rows } = await db.query<{ added_by: string; removed_by: string }>(
      "SELECT added_by, removed_by FROM team_former_members WHERE subject = 'fay'",
    );
    expect(rows).toEqual([{ added_by: 'user:olga', removed_by: 'user:olga' }]);
    await teams.addMember({ team: 'beta', subject: 'fay', issuer: '' }, at, 'user:olga');
    expect(await teams.teamsEverOf('fay', '')).toEqual([
      { team: 'beta', current: true },
      { team: 'gamma', current: true },
    ]);
  });

  it('identifies a person by subject and issuer exactly', async () => {
    await teams.addMember({ team: 'gamma', subject: 'sam', issuer: 'https://idp.example/' }, at, 'test');
    expect(await teams.teamsEverOf('sam', '')).toEqual([]);
    expect(await teams.teamsEverOf('sam', 'https://idp.example/')).toEqual([{ team: 'gamma', current: true }]);
    expect(await teams.teamsEverOf('old', '')).toEqual([]);
  });
});
