import { generateKeyPairSync } from 'node:crypto';
import { cpSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { verifyInclusion, verifyConsistency } from '../src/audit/merkle/rfc6962';
import { openCheckpoint, signCheckpoint } from '../src/audit/merkle/checkpoint';
import { leafHash } from '../src/audit/audit-leaf';
import { run } from '../src/cli/main';
import { DB_KINDS } from './support/backends';
import { DATASET, type Fixture, startFixture } from './support/fixture';
import { bearer, objectPath, rawRequest } from './support/http';
import { AuditWriter } from '../src/audit/audit-writer.service';
import { Checkpointer } from '../src/audit/checkpointer.service';
import { ObjectStore } from '../src/storage/object-store.service';

async function cage(f: Fixture, ...argv: string[]): Promise<{ code: number; out: string; err: string }> {
  let out = '';
  let err = '';
  const code = await run(argv, {
    stdout: { write: (s: string) => ((out += s), true) },
    stderr: { write: (s: string) => ((err += s), true) },
    env: { CAGE_URL: f.gateway.controlUrl, CAGE_TOKEN: f.auditorToken },
  });
  return { code, out, err };
}

describe.each(DB_KINDS)('a tamper-evident audit log on %s', (db) => {
  let f: Fixture;
  let pinnedKey: string;
  let good: string;
  beforeAll(async () => {
    f = await startFixture({ db, env: { CAGE_CHECKPOINT_EVERY_LEAVES: '1000000', CAGE_CHECKPOINT_EVERY_SECONDS: '3600' } });
    for (let i = 0; i < 30; i++) {
      await rawRequest(
        f.gateway.sandboxUrl,
        'GET',
        objectPath(DATASET, i % 3 === 0 ? 'labels/test_annotations.csv' : 'train/scan-1.mhd'),
        bearer(f.alpha.token),
      );
      if (i === 9) await f.gateway.get(Checkpointer).checkpoint();
    }
    await f.gateway.get(AuditWriter).flush();
    await f.gateway.get(Checkpointer).checkpoint();
    pinnedKey = (await rawRequest(f.gateway.controlUrl, 'GET', '/v1/audit/checkpoint/key', bearer(f.auditorToken))).body.toString().trim();
    good = mkdtempSync(join(tmpdir(), 'cage-export-'));
    expect((await cage(f, 'audit', 'export', '--out', good)).code).toBe(0);
  });
  afterAll(async () => {
    await f?.stop();
  });

  const verify = async (dir: string, ...extra: string[]) => {
    writeFileSync(join(dir, 'pinned.key'), pinnedKey);
    return cage(f, 'audit', 'verify', dir, '--key', join(dir, 'pinned.key'), ...extra);
  };
  /** Applies a change in the database, exports again, restores, and returns the verdict. */
  const tampered = async (sql: string[], undo: string[], exportAll = false) => {
    for (const s of sql) await f.db.query(s);
    const dir = mkdtempSync(join(tmpdir(), 'cage-export-'));
    try {
      const e = await cage(f, 'audit', 'export', '--out', dir, ...(exportAll ? [] : ['--to', String(size)]));
      expect(e.code).toBe(0);
      return await verify(dir);
    } finally {
      for (const s of undo) await f.db.query(s);
    }
  };
  let size = 0;

  it('verifies an honest export offline (JSONL lines are the leaf bytes) and serves signed checkpoints, inclusion and consistency proofs that verify', async () => {
    const ok = await verify(good);
    expect([ok.code, ok.err]).toEqual([0, '']);
    const lines = readFileSync(join(good, 'leaves.jsonl'), 'utf8').trim().split('\n');
    size = lines.length;
    const note = (await rawRequest(f.gateway.controlUrl, 'GET', '/v1/audit/checkpoint', bearer(f.auditorToken))).body.toString();
    const cp = openCheckpoint(note, pinnedKey);
    expect(cp.size).toBe(size);
    const inc = JSON.parse(
      (
        await rawRequest(f.gateway.controlUrl, 'GET', `/v1/audit/proof/inclusion?index=7&size=${size}`, bearer(f.auditorToken))
      ).body.toString(),
    ) as { proof: string[]; root: string; leafHash: string };
    expect(inc.leafHash).toBe(leafHash(lines[7]).toString('hex'));
    expect(
      verifyInclusion(
        Buffer.from(inc.leafHash, 'hex'),
        7,
        size,
        inc.proof.map((h) => Buffer.from(h, 'hex')),
        cp.rootHash,
      ),
    ).toBe(true);
    const early = readdirSync(join(good, 'checkpoints')).sort()[0];
    const earlier = openCheckpoint(readFileSync(join(good, 'checkpoints', early), 'utf8'), pinnedKey);
    expect(earlier.size).toBeLessThan(size);
    const con = JSON.parse(
      (
        await rawRequest(f.gateway.controlUrl, 'GET', `/v1/audit/proof/consistency?from=${earlier.size}&to=${size}`, bearer(f.auditorToken))
      ).body.toString(),
    ) as { proof: string[] };
    expect(
      verifyConsistency(
        earlier.size,
        size,
        earlier.rootHash,
        cp.rootHash,
        con.proof.map((h) => Buffer.from(h, 'hex')),
      ),
    ).toBe(true);
    expect((await verify(good, '--earlier', join(good, 'checkpoints', early))).code).toBe(0);
    // The copy outside the database: the same note in the checkpoint bucket.
    const copy = await f.gateway
      .get(ObjectStore)
      .getBuffer('cage-checkpoints', `${f.gateway.get(Checkpointer).copyPrefix}latest.checkpoint`, 10_000);
    expect(copy.toString()).toBe(note);
  });

  it('names the index of a leaf whose field was edited in the database', async () => {
    const r = await tampered(
      ['UPDATE audit_leaves SET leaf = replace(leaf, \'"decision":"deny"\', \'"decision":"allow"\') WHERE idx = 12'],
      ['UPDATE audit_leaves SET leaf = replace(leaf, \'"decision":"allow"\', \'"decision":"deny"\') WHERE idx = 12'],
    );
    expect(r.code).toBe(1);
    expect(r.err).toContain('at index 12');
    expect(r.err).toContain('edited');
  });

  it('names a deleted leaf', async () => {
    await f.db.query('CREATE TABLE saved_leaf AS SELECT * FROM audit_leaves WHERE idx = 9');
    const r = await tampered(
      ['DELETE FROM audit_leaves WHERE idx = 9'],
      ['INSERT INTO audit_leaves SELECT * FROM saved_leaf', 'DROP TABLE saved_leaf'],
    );
    expect(r.code).toBe(1);
    expect(r.err).toContain('at index 9');
    expect(r.err).toContain('deleted');
  });

  it('names two swapped leaves', async () => {
    const swap = [
      'UPDATE audit_leaves SET idx = -1 WHERE idx = 4',
      'UPDATE audit_leaves SET idx = 4 WHERE idx = 5',
      'UPDATE audit_leaves SET idx = 5 WHERE idx = -1',
    ];
    const r = await tampered(swap, swap);
    expect(r.code).toBe(1);
    expect(r.err).toContain('at index 4');
    expect(r.err).toMatch(/swapped/);
  });

  it('detects a truncated tail, even with the tree rewritten to match', async () => {
    await f.db.query('CREATE TABLE saved_tail AS SELECT * FROM audit_leaves WHERE idx >= 25');
    await f.db.query('CREATE TABLE saved_nodes AS SELECT * FROM audit_nodes');
    const r = await tampered(
      ['DELETE FROM audit_leaves WHERE idx >= 25', 'DELETE FROM audit_nodes WHERE level = 0 AND idx >= 25'],
      [
        'INSERT INTO audit_leaves SELECT * FROM saved_tail',
        'DROP TABLE saved_tail',
        'DELETE FROM audit_nodes',
        'INSERT INTO audit_nodes SELECT * FROM saved_nodes',
        'DROP TABLE saved_nodes',
      ],
      true,
    );
    expect(r.code).toBe(1);
    expect(r.err).toContain('at index 25');
    expect(r.err).toContain('truncated');
  });

  it('should not call verified a forged leaf appended to an export with its hash line: nothing signed covers it', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'cage-export-'));
    cpSync(good, dir, { recursive: true });
    const lines = readFileSync(join(dir, 'leaves.jsonl'), 'utf8').trim().split('\n');
    const forged = lines[lines.length - 1].replace(/"requestId":"[^"]*"/, '"requestId":"forged"');
    writeFileSync(join(dir, 'leaves.jsonl'), `${[...lines, forged].join('\n')}\n`);
    writeFileSync(
      join(dir, 'leaf-hashes.txt'),
      `${readFileSync(join(dir, 'leaf-hashes.txt'), 'utf8')}${lines.length} ${leafHash(forged).toString('hex')}\n`,
    );
    const r = await verify(dir);
    expect(r.code).toBe(1);
    expect(r.err).toContain(`1 leaves [${lines.length}, ${lines.length + 1}) are beyond the newest signed checkpoint`);
    // Asked to, it accepts them, and says so.
    const accepted = await verify(dir, '--accept-unverified');
    expect(accepted.code).toBe(0);
    expect(accepted.out).toContain(`; ${lines.length} leaves covered by a verified checkpoint`);
    expect(accepted.out).toContain('UNVERIFIED: 1 leaves past the newest signed checkpoint');
  });

  it('should not verify leaves rewritten above the newest checkpoint left after the later ones were deleted', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'cage-export-'));
    cpSync(good, dir, { recursive: true });
    const kept = readdirSync(join(dir, 'checkpoints')).sort();
    for (const later of kept.slice(1)) rmSync(join(dir, 'checkpoints', later));
    const keptSize = openCheckpoint(readFileSync(join(dir, 'checkpoints', kept[0]), 'utf8'), pinnedKey).size;
    const lines = readFileSync(join(dir, 'leaves.jsonl'), 'utf8').trim().split('\n');
    expect(keptSize).toBeLessThan(lines.length);
    lines[keptSize] = lines[keptSize].replace(/"requestId":"[^"]*"/, '"requestId":"rewritten"');
    writeFileSync(join(dir, 'leaves.jsonl'), `${lines.join('\n')}\n`);
    writeFileSync(join(dir, 'leaf-hashes.txt'), lines.map((l, i) => `${i} ${leafHash(l).toString('hex')}`).join('\n') + '\n');
    const r = await verify(dir);
    expect(r.code).toBe(1);
    expect(r.err).toContain(`are beyond the newest signed checkpoint (size ${keptSize})`);
  });

  it('detects a checkpoint replaced or re-signed with another key', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'cage-export-'));
    cpSync(good, dir, { recursive: true });
    const file = join(dir, 'checkpoints', readdirSync(join(dir, 'checkpoints')).sort().at(-1)!);
    const honest = openCheckpoint(readFileSync(file, 'utf8'), pinnedKey);
    const forged = signCheckpoint(
      { ...honest, rootHash: Buffer.alloc(32, 7) },
      'cage.local/audit',
      generateKeyPairSync('ed25519').privateKey,
    );
    writeFileSync(file, forged);
    const r = await verify(dir);
    expect(r.code).toBe(1);
    expect(r.err).toContain('does not verify with the pinned key');
    const replaced = readFileSync(file, 'utf8').replace(/\n\d+\n/, `\n${honest.size + 1}\n`);
    writeFileSync(file, replaced);
    expect((await verify(dir)).code).toBe(1);
  });

  it('fails the consistency check of a forked log (two different trees of the same size)', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'cage-export-'));
    cpSync(good, dir, { recursive: true });
    // Another history of the same length, honestly hashed: only an earlier checkpoint exposes it.
    const lines = readFileSync(join(dir, 'leaves.jsonl'), 'utf8').trim().split('\n');
    lines[3] = lines[3].replace('"bytes":0', '"bytes":1');
    writeFileSync(join(dir, 'leaves.jsonl'), `${lines.join('\n')}\n`);
    writeFileSync(join(dir, 'leaf-hashes.txt'), lines.map((l, i) => `${i} ${leafHash(l).toString('hex')}`).join('\n') + '\n');
    const earliest = join(good, 'checkpoints', readdirSync(join(good, 'checkpoints')).sort()[0]);
    const r = await verify(dir, '--earlier', earliest);
    expect(r.code).toBe(1);
  });
});
