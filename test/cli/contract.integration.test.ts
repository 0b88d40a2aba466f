import { randomBytes } from 'node:crypto';
import { appendFileSync, cpSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type Command } from 'commander';
import { z } from 'zod';
import { auditLeaf, signingKeyList, storedLeaf } from '../../src/audit/audit.dto';
import { buildProgram } from '../../src/cli/program';
import { ingestRun, ingestRunList } from '../../src/ingest/ingest.dto';
import { dataset, datasetList, indexRun, manifestReport } from '../../src/datasets/dataset-admin.dto';
import { grant, grantList } from '../../src/grants/grants.dto';
import { issuedToken, tokenRevocation } from '../../src/auth/auth.dto';
import { job, jobCredentials, jobList } from '../../src/jobs/jobs.dto';
import { member, memberList, team, teamList } from '../../src/teams/teams.dto';
import { policyCheck, policyRefused, policyVersion, policyVersionList } from '../../src/policy/policy.dto';
import { signingKeyRotation } from '../../src/audit/signing-key.dto';
import { leaderboard, submissionList, submissionView } from '../../src/leaderboard/leaderboard.dto';
import { apiError } from '../../src/ops/error.dto';
import { syntheticDicom } from '../support/dicom';
import { DATASET, type Fixture, POLICY_DIR, startFixture } from '../support/fixture';
import { bearer, rawRequest } from '../support/http';
import { releasedSubmission } from '../support/submissions';
import { cage, type CliResult } from './cli-harness';

/*
 * The contract between the CLI and the gateway, end to end: every `cage` command runs against a
 * real gateway, and what it prints with --json must be what the response models (the same ones
 * the OpenAPI document and the CLI's generated types come from) accept. The models are strict,
 * so a field the server sends and the contract does not name fails here too.
 */

const TEAM = 'contract-team';
const INGESTED = 'contract-ingested';
const BIG = 'contract-big';
const SUBJECT = 'alice@example.org';

/** Every leaf command of the CLI, as `group sub …`. */
/** Every command that runs something: the leaves, and groups with an action of their own (`cage leaderboard`). */
function leafCommands(c: Command, path: string[] = []): string[] {
  return c.commands
    .filter((x) => x.name() !== 'help')
    .flatMap((x) => {
      const here = [...path, x.name()];
      if (x.commands.length === 0) return [here.join(' ')];
      const runs = (x as unknown as { _actionHandler: unknown })._actionHandler !== null;
      return [...(runs ? [here.join(' ')] : []), ...leafCommands(x, here)];
    });
}

/** What an ingest gets: a MetaImage scan, labels, a file that must not pass; and a larger export to cancel mid-way. */
function rawExports(root: string): void {
  const dir = join(root, 'export');
  mkdirSync(dir, { recursive: true });
  const uid = '1.3.6.1.4.1.14519.5.2.1.6279.6001.100225287222365663678666836860';
  writeFileSync(
    join(dir, `${uid}.mhd`),
    [
      'ObjectType = Image',
      'NDims = 3',
      'BinaryData = True',
      'BinaryDataByteOrderMSB = False',
      'CompressedData = False',
      'TransformMatrix = 1 0 0 0 1 0 0 0 1',
      'Offset = -195.5 -182.25 -307.75',
      'ElementSpacing = 0.79 0.79 2.5',
      'PatientName = Jane Patient',
      'DimSize = 4 4 3',
      'ElementType = MET_SHORT',
      `ElementDataFile = ${uid}.raw`,
    ].join('\n'),
  );
  writeFileSync(join(dir, `${uid}.raw`), randomBytes(4 * 4 * 3 * 2));
  writeFileSync(join(dir, 'annotations.csv'), `seriesuid,coordX,coordY,coordZ,diameter_mm,mrn\n${uid},-100.5,20.25,-250,7.5,MRN-7\n`);
  writeFileSync(join(dir, 'notes.txt'), 'free text');

  const big = join(root, 'big');
  mkdirSync(big, { recursive: true });
  const study = '1.2.826.0.1.3680043.8.498.1';
  for (let n = 0; n < 60; n++) {
    writeFileSync(
      join(big, `IM${n}.dcm`),
      syntheticDicom({
        study,
        series: `${study}.7`,
        sop: `${study}.7.${n}`,
        frameOfReference: `${study}.9`,
        patientId: 'MRN-7',
        studyDate: '20190302',
        acquisitionDate: '20190303',
        birthDate: '19500110',
        pixels: new Uint16Array(64).map((_v, i) => (i * 31 + n) & 0xffff),
      }),
    );
  }
}

/** `value` as `schema` accepts it; a mismatch lists every issue (path, what was expected). */
function conforming<S extends z.ZodTypeAny>(schema: S, value: unknown): z.infer<S> {
  const r = schema.safeParse(value);
  expect(r.success ? [] : r.error.issues).toEqual([]);
  return r.data as z.infer<S>;
}

describe('every cage command against a real gateway, each --json answer checked against its response model', () => {
  let f: Fixture;
  const root = mkdtempSync(join(tmpdir(), 'cage-contract-'));
  const work = join(root, 'work');
  const ran = new Set<string>();

  beforeAll(async () => {
    rawExports(join(root, 'incoming'));
    mkdirSync(work);
    // Checkpoints often, so an export has signed ones to verify.
    f = await startFixture({ db: 'pglite', env: { CAGE_INGEST_ROOT: join(root, 'incoming'), CAGE_CHECKPOINT_EVERY_SECONDS: '0.2' } });
  });
  afterAll(async () => {
    await f?.stop();
    rmSync(root, { recursive: true, force: true });
  });

  /** `cage --json <command> <args…>` with an organizer's (or the given) token, from a scratch directory. */
  function run(command: string, args: string[] = [], token = f.organizerToken): Promise<CliResult> {
    ran.add(command);
    return cage(['--json', ...command.split(' '), ...args], {
      env: { CAGE_URL: f.gateway.controlUrl, CAGE_TOKEN: token, CAGE_DATA_DIR: f.config.dataDir },
      cwd: work,
    });
  }

  /** The command succeeded, and its output is one JSON document `schema` accepts. */
  async function json<S extends z.ZodTypeAny>(schema: S, command: string, args: string[] = [], token?: string): Promise<z.infer<S>> {
    const r = await run(command, args, token);
    expect({ code: r.code, stderr: r.stderr }).toMatchObject({ code: 0 });
    return conforming(schema, JSON.parse(r.stdout));
  }

  it('team add, list; team member add, list, remove', async () => {
    expect(await json(team, 'team add', [TEAM, '--name', 'Contract Rangers'])).toMatchObject({ id: TEAM, members: 0 });
    expect((await json(teamList, 'team list')).teams.map((t) => t.id)).toContain(TEAM);
    expect(await json(member, 'team member add', [TEAM, SUBJECT])).toMatchObject({ team: TEAM, subject: SUBJECT });
    expect((await json(memberList, 'team member list', [TEAM])).members.map((m) => m.subject)).toEqual([SUBJECT]);
    // 204 from the server; the CLI says what it did.
    const removed = await run('team member remove', [TEAM, SUBJECT]);
    expect(removed.code).toBe(0);
    expect(JSON.parse(removed.stdout)).toEqual({ team: TEAM, subject: SUBJECT, removed: true });
  });

  it('dataset show, add, list, index', async () => {
    const ct = await json(dataset, 'dataset show', [DATASET]);
    for (const id of [INGESTED, BIG]) {
      const added = await json(dataset, 'dataset add', [
        id,
        '--bucket',
        ct.bucket,
        '--prefix',
        `${id}/`,
        '--title',
        id,
        '--split',
        'train:train:train/',
        '--split',
        'labels:labels:labels/',
      ]);
      expect(added).toMatchObject({ id, objects: null });
      expect(added.splits.map((x) => x.name).sort()).toEqual(['labels', 'train']);
    }
    expect((await json(datasetList, 'dataset list')).datasets.map((d) => d.id)).toEqual(expect.arrayContaining([DATASET, INGESTED, BIG]));
    const indexed = await json(indexRun, 'dataset index', [DATASET]);
    expect(indexed).toMatchObject({ state: 'done', error: null });
    expect(indexed.objectsSeen).toBeGreaterThan(0);
  });

  it('ingest, ingest-runs (organizer and auditor views), ingest-cancel; dataset verify', async () => {
    const done = await json(ingestRun, 'ingest', [
      INGESTED,
      'export',
      '--target',
      'train/',
      '--csv-columns',
      'seriesuid,coordX,coordY,coordZ,diameter_mm',
      '--csv-pseudonymize',
      'seriesuid',
    ]);
    expect(done).toMatchObject({ state: 'done', source: join(root, 'incoming', 'export'), filesRefused: 1 });
    expect(done.filesWritten).toBeGreaterThan(0);
    expect(done.summary?.refused).toEqual([{ path: expect.stringContaining('notes.txt') as string, reason: expect.any(String) as string }]);
    expect((await json(ingestRunList, 'ingest-runs', [INGESTED])).runs.map((r) => r.id)).toEqual([done.id]);
    const audited = await json(ingestRunList, 'ingest-runs', [INGESTED], f.auditorToken);
    expect(audited.runs[0]).toMatchObject({ source: '(shown to organizers only)' });

    const started = await json(ingestRun, 'ingest', [BIG, 'big', '--target', 'train/', '--no-wait']);
    expect(started.state).toBe('running');
    const cancel = await run('ingest-cancel', [started.id]);
    if (cancel.code === 0) expect(conforming(ingestRun, JSON.parse(cancel.stdout)).id).toBe(started.id);
    else {
      // The run finished before the cancel landed: the answer is the 409, in the error model.
      expect(cancel.code).toBe(6);
      conforming(apiError, JSON.parse(cancel.stdout));
    }
    for (;;) {
      const { runs } = await json(ingestRunList, 'ingest-runs', [BIG]);
      if (runs[0].state !== 'running') break;
      await new Promise((r) => setTimeout(r, 20));
    }

    const report = await json(manifestReport, 'dataset verify', [INGESTED], f.auditorToken);
    expect(report).toMatchObject({ dataset: INGESTED, checked: report.listed, unexpected: [], changed: [], missing: [] });
    expect(report.listed).toBeGreaterThan(0);
  });

  it('grant add, list, revoke', async () => {
    const g = await json(grant, 'grant add', [
      '--team',
      TEAM,
      '--dataset',
      INGESTED,
      '--split',
      'train',
      '--from',
      'now',
      '--until',
      '+1d',
      '--quota',
      '1GiB',
    ]);
    expect(g).toMatchObject({ team: TEAM, state: 'active', byteQuota: 2 ** 30 });
    expect((await json(grantList, 'grant list', ['--team', TEAM, '--active'])).grants.map((x) => x.id)).toEqual([g.id]);
    expect(await json(grant, 'grant revoke', [g.id])).toMatchObject({ id: g.id, state: 'revoked', revokedBy: 'user:olga' });
  });

  it('job create, list, revoke', async () => {
    const created = await json(jobCredentials, 'job create', ['--team', TEAM, '--ttl', '1h']);
    const listed = await json(jobList, 'job list', ['--team', TEAM, '--active']);
    expect(listed.jobs).toEqual([expect.objectContaining({ jobId: created.jobId, accessKeyId: created.accessKeyId, state: 'active' })]);
    expect(await json(job, 'job revoke', [created.jobId])).toMatchObject({ jobId: created.jobId, state: 'revoked' });
  });

  it('job launch: a Kubernetes List (CLI-side, checked in test/cli/job-launch.integration.test.ts)', async () => {
    const r = await run('job launch', ['--team', 'alpha', '--image', 'train:1']);
    expect({ code: r.code, stderr: r.stderr }).toMatchObject({ code: 0 });
    expect((JSON.parse(r.stdout) as { items: { kind: string }[] }).items.map((i) => i.kind)).toEqual(['Secret', 'Job']);
  });

  it('run: the report of a confined run (CLI-side, no API model)', async () => {
    const r = await run('run', ['--team', 'alpha', '--timeout', '60', '--', 'true']);
    expect({ code: r.code, stderr: r.stderr }).toMatchObject({ code: 0 });
    expect(JSON.parse(r.stdout)).toMatchObject({ team: 'alpha', exitCode: 0, timedOut: false, credentialRevoked: true });
  });

  it('token issue, refresh, revoke', async () => {
    const auditor = await json(issuedToken, 'token issue', ['--subject', 'dora', '--role', 'auditor', '--ttl', '1h']);
    const refreshed = await json(issuedToken, 'token refresh', [], auditor.token);
    expect(refreshed.tokenId).not.toBe(auditor.tokenId);
    const issued = await json(issuedToken, 'token issue', ['--subject', 'carol', '--role', 'contestant', '--team', TEAM, '--ttl', '1h']);
    expect(issued.token.split('.')).toHaveLength(3);
    expect(await json(tokenRevocation, 'token revoke', [issued.tokenId])).toMatchObject({ tokenId: issued.tokenId });
    expect((await json(tokenRevocation, 'token revoke', ['--subject', 'carol'])).subject).toBe('carol');
  });

  it('policy show, versions, check, activate, rollback; refusals in their own models', async () => {
    const active = await json(policyVersion, 'policy show');
    expect(active.active).toBe(true);
    expect((await json(policyVersionList, 'policy versions')).versions.map((v) => v.version)).toEqual([active.version]);
    expect(await json(policyCheck, 'policy check', [POLICY_DIR])).toMatchObject({ ok: true, sha256: active.sha256, errors: [] });
    // The active set again: nothing to activate, the active version answers.
    expect(await json(policyVersion, 'policy activate', [POLICY_DIR])).toMatchObject({ version: active.version, sha256: active.sha256 });
    const changed = join(work, 'changed-policies');
    cpSync(POLICY_DIR, changed, { recursive: true });
    appendFileSync(join(changed, 'review.cedar'), '\n// a comment changes the set\n');
    const activated = await json(policyVersion, 'policy activate', [changed]);
    expect(activated).toMatchObject({ version: active.version + 1, active: true });
    expect(activated.sha256).not.toBe(active.sha256);
    expect(await json(policyVersion, 'policy rollback', [String(active.version)])).toMatchObject({
      version: active.version + 2,
      sha256: active.sha256,
    });

    // A set that does not compile: the check has no hash; activating it is a 422 naming why.
    const broken = join(work, 'broken-policies');
    mkdirSync(broken);
    writeFileSync(join(broken, 'broken.cedar'), 'permit(');
    const check = await run('policy check', [broken]);
    expect(check.code).toBe(7);
    expect(conforming(policyCheck, JSON.parse(check.stdout))).toMatchObject({ ok: false, sha256: null });
    expect(check.stderr).toContain('does not pass (it does not compile)');
    const refused = await run('policy activate', [broken]);
    expect(refused.code).toBe(7);
    expect(conforming(policyRefused, JSON.parse(refused.stdout)).errors).not.toEqual([]);
  });

  it('audit tail, export, verify (auditor)', async () => {
    // The export covers the log up to the latest signed checkpoint: wait for one.
    for (;;) {
      const r = await rawRequest(f.gateway.controlUrl, 'GET', '/v1/audit/checkpoints', bearer(f.auditorToken));
      if ((JSON.parse(r.body.toString()) as { checkpoints: unknown[] }).checkpoints.length > 0) break;
      await new Promise((res) => setTimeout(res, 50));
    }
    const tail = await run('audit tail', ['-n', '5'], f.auditorToken);
    expect(tail.code).toBe(0);
    const lines = tail.stdout.trim().split('\n');
    expect(lines).toHaveLength(5);
    for (const line of lines) conforming(storedLeaf, JSON.parse(line));

    const exported = await run('audit export', ['--out', 'audit'], f.auditorToken);
    expect(exported.code).toBe(0);
    const summary = JSON.parse(exported.stdout) as { dir: string; leaves: number; checkpoints: number };
    expect(summary).toEqual({ dir: join(work, 'audit'), leaves: expect.any(Number) as number, checkpoints: expect.any(Number) as number });
    expect(summary.checkpoints).toBeGreaterThan(0);
    // What the export wrote is what the API answered: leaves, and the keys list.
    const leaves = readFileSync(join(work, 'audit', 'leaves.jsonl'), 'utf8')
      .trim()
      .split('\n');
    expect(leaves).toHaveLength(summary.leaves);
    for (const line of leaves) conforming(auditLeaf, JSON.parse(line));
    conforming(signingKeyList, JSON.parse(readFileSync(join(work, 'audit', 'keys.json'), 'utf8')));
    expect(readdirSync(join(work, 'audit', 'checkpoints'))).toHaveLength(summary.checkpoints);

    const verified = await run('audit verify', ['audit'], f.auditorToken);
    expect({ code: verified.code, stderr: verified.stderr }).toMatchObject({ code: 0 });
    expect(JSON.parse(verified.stdout)).toMatchObject({ ok: true, size: summary.leaves });
  });

  it('admin signing-keys, rotate-signing-key', async () => {
    const before = await json(signingKeyList, 'admin signing-keys');
    const rotated = await json(signingKeyRotation, 'admin rotate-signing-key', ['--token-grace', '1h']);
    expect(rotated.retired).toMatchObject({ kid: before.keys.find((k) => k.active)?.kid, active: false });
    expect((await json(signingKeyList, 'admin signing-keys')).keys.filter((k) => k.active)).toEqual([rotated.active]);
  });

  it('job wait: without a Kubernetes configuration, a usage error and nothing revoked (against a cluster: test/cli/job-apply.integration.test.ts)', async () => {
    const r = await run('job wait', [f.alpha.jobId]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('no Kubernetes configuration');
    const listed = await json(jobList, 'job list', ['--team', 'alpha']);
    expect(listed.jobs.find((j) => j.jobId === f.alpha.jobId)?.state).toBe('active');
  });

  it('leaderboard, submissions, submissions select, leaderboard close', async () => {
    await releasedSubmission(f, { id: 'egr-contract-1', team: 'beta', shown: 0.61, publicScore: 0.613 });
    const board = await json(leaderboard, 'leaderboard');
    expect(board).toMatchObject({
      competition: 'submissions',
      closed: false,
      public: [{ rank: 1, team: 'beta', score: 0.61, submissions: 1 }],
    });
    const listed = await json(submissionList, 'submissions', ['--team', 'beta']);
    expect(listed.submissions).toEqual([expect.objectContaining({ id: 'egr-contract-1', publicScore: 0.613, selected: false })]);
    expect(await json(submissionView, 'submissions select', ['egr-contract-1'])).toMatchObject({ selected: true });
    const missing = await run('submissions select', ['egr-nope']);
    expect(missing.code).toBe(5);
    // The demo policy's labels are not in this fixture: the close fails closed, nothing closed.
    const close = await run('leaderboard close');
    expect(close.code).toBe(1);
    expect((await json(leaderboard, 'leaderboard')).closed).toBe(false);
  });

  it('score: the FROC of local files, {sensitivities, cpm} (no API; the metric: src/leaderboard/metrics/froc.spec.ts)', async () => {
    writeFileSync(join(work, 'ann.csv'), 'seriesuid,coordX,coordY,coordZ,diameter_mm\n1.2.3,0,0,0,10\n1.2.3,50,0,0,10\n');
    // One hit at .9; a false positive and the second nodule tied at .5 (the curve's diagonal).
    writeFileSync(
      join(work, 'pred.csv'),
      'seriesuid,coordX,coordY,coordZ,probability\n1.2.3,0,0,0,0.9\n1.2.3,50,0,1,5e-1\n1.2.3,300,0,0,.5\n',
    );
    const scored = await json(z.object({ sensitivities: z.array(z.number()).length(7), cpm: z.number() }).strict(), 'score', [
      '--annotations',
      'ann.csv',
      '--predictions',
      'pred.csv',
    ]);
    expect(scored.sensitivities).toEqual([0.5625, 0.625, 0.75, 1, 1, 1, 1]);
    expect(scored.cpm).toBeCloseTo(5.9375 / 7, 15);
    writeFileSync(join(work, 'bad.csv'), 'seriesuid,coordX,coordY,coordZ,probability\n1.2.3,0,0,zero,0.9\n');
    const bad = await run('score', ['--annotations', 'ann.csv', '--predictions', 'bad.csv']);
    expect(bad.code).toBe(1);
    expect(bad.stderr).toContain('predictions: line 2: coordZ is not a finite decimal number');
    const missing = await run('score', ['--annotations', 'nope.csv', '--predictions', 'pred.csv']);
    expect(missing.code).toBe(2);
    expect(missing.stderr).toContain('cannot read nope.csv: ENOENT');
  });

  it('admin pseudonym-key fingerprint, export, import (local files, no API)', async () => {
    const local = z.object({ file: z.string(), fingerprint: z.string().regex(/^sha256:/) }).strict();
    const fp = await json(local, 'admin pseudonym-key fingerprint');
    const out = await json(local.extend({ written: z.boolean() }).strict(), 'admin pseudonym-key export', ['--out', 'pk-backup']);
    expect(out).toEqual({ file: join(work, 'pk-backup'), fingerprint: fp.fingerprint, written: true });
    const back = await json(local.extend({ written: z.boolean() }).strict(), 'admin pseudonym-key import', ['pk-backup']);
    expect(back).toEqual({ file: fp.file, fingerprint: fp.fingerprint, written: false });
  });

  it('admin issue-token: on the embedded default it points at bootstrap.json (on PostgreSQL: test/cli/admin-token.integration.test.ts)', async () => {
    const r = await run('admin issue-token', ['--role', 'organizer', '--subject', 'dora']);
    expect(r.code).toBe(2);
    expect(r.stdout).toBe('');
    expect(r.stderr).toContain('bootstrap.json');
  });

  it('ran every command the CLI has', () => {
    const io = { stdout: { write: () => true }, stderr: { write: () => true }, env: {} };
    expect([...ran].sort()).toEqual(leafCommands(buildProgram(io)).sort());
  });
});
