import { type CheckpointKey } from '../src/audit/checkpointer.service';
import { generateKeyPairSync, randomBytes } from 'node:crypto';
import { mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SignJWT } from 'jose';
import { type AuditLeaf } from '../src/audit/audit-leaf';
import { openCheckpoint, signCheckpoint, verifierKey } from '../src/audit/merkle/checkpoint';
import { CONTROL_AUDIENCE, ISSUER } from '../src/auth/token.service';
import { run } from '../src/cli/main';
import { loadConfig } from '../src/config/config';
import { PgliteDatabase } from '../src/db/pglite.database';
import { PostgresDatabase } from '../src/db/postgres.database';
import { Gateway } from '../src/gateway';
import { RING_SYNC_MS } from '../src/keys/signing-key-ring';
import { SigningKeys } from '../src/keys/signing-keys';
import { DB_KINDS, POSTGRES_URL } from './support/backends';
import { type Fixture, POLICY_DIR, startFixture } from './support/fixture';
import { bearer, rawRequest } from './support/http';
import { Checkpointer } from '../src/audit/checkpointer.service';
import { SigningKeyRing } from '../src/keys/signing-key-ring';
import { TokenService } from '../src/auth/token.service';

type Key = CheckpointKey;

const QUIET = { CAGE_CHECKPOINT_EVERY_LEAVES: '1000000', CAGE_CHECKPOINT_EVERY_SECONDS: '3600' };

function pem(): string {
  return generateKeyPairSync('ed25519').privateKey.export({ format: 'pem', type: 'pkcs8' }).toString();
}

function kidOf(token: string): string {
  return (JSON.parse(Buffer.from(token.split('.')[0], 'base64url').toString()) as { kid: string }).kid;
}

async function cage(controlUrl: string, token: string, ...argv: string[]): Promise<{ code: number; out: string; err: string }> {
  let out = '';
  let err = '';
  const code = await run(argv, {
    stdout: { write: (s: string) => ((out += s), true) },
    stderr: { write: (s: string) => ((err += s), true) },
    env: { CAGE_URL: controlUrl, CAGE_TOKEN: token },
  });
  return { code, out, err };
}

async function get(g: Gateway, path: string, token: string) {
  return rawRequest(g.controlUrl, 'GET', path, bearer(token));
}

async function keysOf(g: Gateway, token: string): Promise<Key[]> {
  return (JSON.parse((await get(g, '/v1/audit/checkpoint/keys', token)).body.toString()) as { keys: Key[] }).keys;
}

/** Organizer actions: each is an audit leaf. */
async function traffic(g: Gateway, organizer: string, n: number): Promise<void> {
  for (let i = 0; i < n; i++) {
    const r = await rawRequest(
      g.controlUrl,
      'POST',
      '/v1/teams',
      { ...bearer(organizer), 'content-type': 'application/json' },
      JSON.stringify({ id: `t-${randomBytes(4).toString('hex')}`, name: 'x' }),
    );
    expect(r.status).toBe(201);
  }
}

async function latestNote(g: Gateway, token: string): Promise<string> {
  await g.get(Checkpointer).checkpoint();
  return (await get(g, '/v1/audit/checkpoint', token)).body.toString();
}

describe.each(DB_KINDS)('signing-key rotation on %s', (db) => {
  let f: Fixture;
  const rootPem = pem();
  let keysAfterFirst: Key[];
  beforeAll(async () => {
    f = await startFixture({ db, env: { ...QUIET, CAGE_SIGNING_KEY: rootPem } });
  });
  afterAll(async () => {
    await f?.stop();
  });

  it('keeps checkpoints signed before a rotation verifiable online and offline; signs new ones with the new key; old tokens stay valid until they expire', async () => {
    const g = f.gateway;
    const oldKey = (await get(g, '/v1/audit/checkpoint/key', f.auditorToken)).body.toString().trim();
    await traffic(g, f.organizerToken, 3);
    const oldNote = await latestNote(g, f.auditorToken);
    expect(openCheckpoint(oldNote, oldKey).size).toBeGreaterThan(0);
    const oldKid = kidOf(f.organizerToken);

    const rotated = await cage(g.controlUrl, f.organizerToken, 'admin', 'rotate-signing-key');
    expect(rotated.code).toBe(0);
    expect(rotated.out).toMatch(/retired \S+ \(checkpoint key [0-9a-f]{8}\); its tokens are accepted until/);

    // (d) the key endpoint lists both keys, each with its window; the new window starts where the old one ends.
    const keys = await keysOf(g, f.auditorToken);
    keysAfterFirst = keys;
    expect(keys).toHaveLength(2);
    const [retired, active] = keys;
    expect(retired).toMatchObject({ kid: oldKid, verifierKey: oldKey, active: false });
    expect(active.active).toBe(true);
    expect(active.notAfter).toBeNull();
    expect(retired.notAfter).toBe(active.notBefore);
    // Default grace: until the longest-lived token could expire (366 days after the rotation).
    expect(new Date(retired.tokensUntil!).getTime() - new Date(retired.notAfter!).getTime()).toBe(366 * 24 * 3600 * 1000);
    expect((await get(g, '/v1/audit/checkpoint/key', f.auditorToken)).body.toString().trim()).toBe(active.verifierKey);

    // (a) online: the checkpoint made before the rotation is served and verifies with the retired key, not the new one.
    const served = (
      JSON.parse((await get(g, '/v1/audit/checkpoints', f.auditorToken)).body.toString()) as { checkpoints: { note: string }[] }
    ).checkpoints.map((c) => c.note);
    expect(served).toContain(oldNote);
    expect(openCheckpoint(oldNote, retired.verifierKey).size).toBeGreaterThan(0);
    expect(() => openCheckpoint(oldNote, active.verifierKey)).toThrow(/no signature/);

    // (b) new checkpoints are signed by the new key only.
    await traffic(g, f.organizerToken, 2);
    const newNote = await latestNote(g, f.auditorToken);
    expect(newNote).not.toBe(oldNote);
    expect(openCheckpoint(newNote, active.verifierKey).size).toBeGreaterThan(openCheckpoint(oldNote, oldKey).size);
    expect(() => openCheckpoint(newNote, oldKey)).toThrow(/no signature/);

    // The rotation is a leaf naming both keys.
    const page = JSON.parse((await get(g, '/v1/audit?action=keys.rotate', f.auditorToken)).body.toString()) as {
      leaves: { leaf: AuditLeaf }[];
    };
    expect(page.leaves).toHaveLength(1);
    expect(page.leaves[0].leaf).toMatchObject({
      principal: 'user:olga',
      decision: 'allow',
      detail: { from: { kid: oldKid, keyId: retired.keyId }, to: { kid: active.kid, keyId: active.keyId }, reason: 'rotate' },
    });

    // (c) a token issued before the rotation is still accepted; new tokens carry the new kid.
    expect((await get(g, '/v1/teams', f.organizerToken)).status).toBe(200);
    expect((await rawRequest(g.sandboxUrl, 'GET', '/v1/datasets', bearer(f.alpha.token))).status).toBe(200);
    const issued = await rawRequest(
      g.controlUrl,
      'POST',
      '/v1/tokens',
      { ...bearer(f.organizerToken), 'content-type': 'application/json' },
      JSON.stringify({ subject: 'nina', role: 'auditor' }),
    );
    const fresh = (JSON.parse(issued.body.toString()) as { token: string }).token;
    expect(kidOf(fresh)).toBe(active.kid);
    expect((await get(g, '/v1/audit/checkpoint', fresh)).status).toBe(200);

    // Offline: with only the key pinned before the rotation, with only the new one, and with keys.json.
    const dir = mkdtempSync(join(tmpdir(), 'cage-rotated-'));
    try {
      expect((await cage(g.controlUrl, f.auditorToken, 'audit', 'export', '--out', dir)).code).toBe(0);
      expect(readdirSync(join(dir, 'checkpoints')).length).toBeGreaterThanOrEqual(3);
      writeFileSync(join(dir, 'old.key'), `${oldKey}\n`);
      writeFileSync(join(dir, 'new.key'), `${active.verifierKey}\n`);
      for (const key of ['old.key', 'new.key', 'keys.json']) {
        const v = await cage(g.controlUrl, f.auditorToken, 'audit', 'verify', dir, '--key', join(dir, key));
        expect({ key, code: v.code, err: v.err }).toEqual({ key, code: 0, err: '' });
        expect(v.out).toMatch(/ok: \d+ leaves, root [0-9a-f]{64}, \d+ signed checkpoints verified \(2 signing keys\)/);
      }
      // A key the log does not link to the pinned one proves nothing.
      writeFileSync(join(dir, 'other.key'), `${verifierKey('cage.local/audit', SigningKeys.generate().rawPublicKey())}\n`);
      const other = await cage(g.controlUrl, f.auditorToken, 'audit', 'verify', dir, '--key', join(dir, 'other.key'));
      expect(other.code).toBe(1);
      expect(other.err).toContain('is not pinned and which no rotation leaf links to a pinned key');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('should not accept a retired key’s tokens after a rotation without grace, nor a token a retired key signs after it retired', async () => {
    const g = f.gateway;
    const before = await rawRequest(
      g.controlUrl,
      'POST',
      '/v1/tokens',
      { ...bearer(f.organizerToken), 'content-type': 'application/json' },
      JSON.stringify({ subject: 'omar', role: 'organizer' }),
    );
    const omar = (JSON.parse(before.body.toString()) as { token: string }).token;
    expect(kidOf(omar)).toBe(keysAfterFirst[1].kid);

    const r = await cage(g.controlUrl, omar, '--json', 'admin', 'rotate-signing-key', '--token-grace', '0');
    expect(r.code).toBe(0);
    const rotation = JSON.parse(r.out) as { retired: Key; active: Key };
    expect(rotation.retired.kid).toBe(keysAfterFirst[1].kid);
    expect(new Date(rotation.retired.tokensUntil!).getTime()).toBe(new Date(rotation.retired.notAfter!).getTime());

    const refused = await get(g, '/v1/teams', omar);
    expect(refused.status).toBe(401);
    expect(refused.body.toString()).toContain('was retired');
    // The first key's tokens keep their default grace...
    expect((await get(g, '/v1/teams', f.organizerToken)).status).toBe(200);
    // ...but whoever holds that retired key cannot mint new ones with it (a minute after it retired).
    const root = SigningKeys.fromPem(rootPem, 'test');
    const retiredAt = Math.floor(new Date(keysAfterFirst[0].notAfter!).getTime() / 1000);
    const forged = await new SignJWT({ typ: 'user', role: 'organizer' })
      .setProtectedHeader({ alg: 'EdDSA', typ: 'JWT', kid: root.kid })
      .setIssuer(ISSUER)
      .setAudience(CONTROL_AUDIENCE)
      .setSubject('mallory')
      .setIssuedAt(retiredAt + 60)
      .setExpirationTime('1h')
      .sign(root.privateKey);
    const minted = await get(g, '/v1/teams', forged);
    expect(minted.status).toBe(401);
    expect(minted.body.toString()).toContain('issued after its signing key retired');

    expect(await keysOf(g, f.auditorToken)).toHaveLength(3);
    const list = await cage(g.controlUrl, f.organizerToken, 'admin', 'signing-keys');
    expect(list.code).toBe(0);
    expect(list.out.match(/retired/g)).toHaveLength(2);
    expect(list.out.match(/active/g)).toHaveLength(1);
  });

  it('should not verify offline a checkpoint that a retired key signs after its successor signed one', async () => {
    const g = f.gateway;
    await traffic(g, f.organizerToken, 2);
    await g.get(Checkpointer).checkpoint();
    const dir = mkdtempSync(join(tmpdir(), 'cage-late-'));
    try {
      expect((await cage(g.controlUrl, f.auditorToken, 'audit', 'export', '--out', dir)).code).toBe(0);
      const first = keysAfterFirst[0];
      writeFileSync(join(dir, 'first.key'), `${first.verifierKey}\n`);
      // Three keys, two rotations, followed from the first key alone.
      const ok = await cage(g.controlUrl, f.auditorToken, 'audit', 'verify', dir, '--key', join(dir, 'first.key'));
      expect(ok.err).toBe('');
      expect(ok.out).toContain('(3 signing keys)');
      // The first key (retired, but its holder still has it) signs the current tree head: a valid
      // signature, a true root, and still refused, because its successors have signed since.
      const latest = openCheckpoint(await latestNote(g, f.auditorToken), (await keysOf(g, f.auditorToken))[2].verifierKey);
      const late = signCheckpoint({ ...latest, size: latest.size }, latest.origin, SigningKeys.fromPem(rootPem, 'test').privateKey);
      rmSync(join(dir, 'checkpoints', `${String(latest.size).padStart(16, '0')}.checkpoint`));
      writeFileSync(join(dir, 'checkpoints', `${String(latest.size).padStart(16, '0')}.checkpoint`), late);
      const bad = await cage(g.controlUrl, f.auditorToken, 'audit', 'verify', dir, '--key', join(dir, 'keys.json'));
      expect(bad.code).toBe(1);
      expect(bad.err).toMatch(new RegExp(`checkpoint of size ${latest.size} is signed by \\S+, which a rotation retired`));
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('replacing the configured signing key (a restart with another CAGE_SIGNING_KEY)', () => {
  const dir = mkdtempSync(join(tmpdir(), 'cage-adopt-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  const start = async (key: string, at = dir) => {
    const db = await PgliteDatabase.open(join(at, 'pglite'));
    return Gateway.start(
      loadConfig({
        CAGE_DATA_DIR: at,
        CAGE_CONTROL_PORT: '0',
        CAGE_SANDBOX_PORT: '0',
        CAGE_DEMO: '0',
        CAGE_POLICY_DIR: POLICY_DIR,
        CAGE_SIGNING_KEY: key,
        ...QUIET,
      }),
      { logger: false, db },
    );
  };

  it('makes the new key active, refuses the old key’s tokens at once, logs it, and never lets the old key sign again', async () => {
    const first = pem();
    let g = await start(first);
    const oldToken = await g.get(TokenService).issueUser('olga', 'organizer', null, 3600);
    const oldBootstrap = g.bootstrap!.organizerToken;
    await g.stop();

    const second = pem();
    g = await start(second);
    try {
      const newToken = await g.get(TokenService).issueUser('olga', 'organizer', null, 3600);
      expect(kidOf(newToken)).toBe(SigningKeys.fromPem(second, 'test').kid);
      expect((await get(g, '/v1/teams', newToken)).status).toBe(200);
      expect((await get(g, '/v1/teams', oldToken)).status).toBe(401);
      // bootstrap.json's tokens were signed by the replaced key: the start issued new ones.
      expect(g.bootstrap!.organizerToken).not.toBe(oldBootstrap);
      expect(kidOf(g.bootstrap!.organizerToken)).toBe(SigningKeys.fromPem(second, 'test').kid);
      expect((await get(g, '/v1/teams', g.bootstrap!.organizerToken)).status).toBe(200);
      const page = JSON.parse((await get(g, '/v1/audit?action=keys.rotate', newToken)).body.toString()) as {
        leaves: { leaf: AuditLeaf }[];
      };
      expect(page.leaves.map((l) => l.leaf.detail?.reason)).toEqual(['configured key replaced']);
      expect(await keysOf(g, newToken)).toHaveLength(2);
    } finally {
      await g.stop();
    }
    await expect(start(first)).rejects.toThrow(/was retired at .* and never signs again/);
  });

  it('gives a database from before the ring its configured key, its window starting at the first checkpoint it signed', async () => {
    const at = join(dir, 'upgrade');
    const key = pem();
    let g = await start(key, at);
    const token = await g.get(TokenService).issueUser('olga', 'organizer', null, 3600);
    await traffic(g, token, 1);
    await g.get(Checkpointer).checkpoint();
    const [first] = await g.get(Checkpointer).list(1);
    await g.stop();
    const db = await PgliteDatabase.open(join(at, 'pglite'));
    await db.query('DELETE FROM signing_keys');
    await db.close();
    g = await start(key, at);
    try {
      const keys = await keysOf(g, token);
      expect(keys).toHaveLength(1);
      expect(keys[0]).toMatchObject({ kid: kidOf(token), notBefore: first.createdAt, notAfter: null, active: true });
    } finally {
      await g.stop();
    }
  });
});

const describePg = POSTGRES_URL === undefined ? describe.skip : describe;

describePg('a rotation reaches a replica on the same PostgreSQL', () => {
  const schema = `cage_test_${randomBytes(6).toString('hex')}`;
  const key = pem();
  const dirs: string[] = [];
  const gateways: Gateway[] = [];
  const replica = async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'cage-replica-'));
    dirs.push(dataDir);
    const db = await PostgresDatabase.open(POSTGRES_URL!, schema);
    const g = await Gateway.start(
      loadConfig({
        CAGE_DATA_DIR: dataDir,
        CAGE_CONTROL_PORT: '0',
        CAGE_SANDBOX_PORT: '0',
        CAGE_DEMO: '0',
        CAGE_POLICY_DIR: POLICY_DIR,
        CAGE_SIGNING_KEY: key,
        ...QUIET,
      }),
      { logger: false, db },
    );
    gateways.push(g);
    return g;
  };
  afterAll(async () => {
    for (const g of gateways) await g.stop().catch(() => undefined);
    const admin = await PostgresDatabase.open(POSTGRES_URL!);
    await admin.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
    await admin.close();
    for (const d of dirs) rmSync(d, { recursive: true, force: true });
  });

  it(`signs with the new key at once, accepts its tokens at once, and issues with it within ${RING_SYNC_MS} ms`, async () => {
    const a = await replica();
    const b = await replica();
    const organizer = await a.get(TokenService).issueUser('olga', 'organizer', null, 3600);
    const oldKid = kidOf(organizer);
    expect(kidOf(await b.get(TokenService).issueUser('x', 'auditor', null, 60))).toBe(oldKid);

    // B does not follow the ring for now: what follows holds whatever B's own view is.
    b.get(SigningKeyRing).stopSync();
    const r = await cage(a.controlUrl, organizer, '--json', 'admin', 'rotate-signing-key');
    expect(r.code).toBe(0);
    const first = (JSON.parse(r.out) as { active: Key }).active;
    expect(kidOf(await b.get(TokenService).issueUser('x', 'auditor', null, 60))).toBe(oldKid);
    // B's next checkpoint is signed with the new key: it reads the active key under the ring's lock.
    await traffic(b, organizer, 1);
    const note = await latestNote(b, organizer);
    expect(openCheckpoint(note, first.verifierKey).size).toBeGreaterThan(0);
    // A token of the new key, issued on A a moment ago, is accepted on B (B re-reads the ring for a kid it does not know).
    const fromA = await a.get(TokenService).issueUser('ann', 'auditor', null, 3600);
    expect(kidOf(fromA)).toBe(first.kid);
    expect((await get(b, '/v1/audit/checkpoint/keys', fromA)).status).toBe(200);
    expect(kidOf(await b.get(TokenService).issueUser('x', 'auditor', null, 60))).toBe(first.kid);

    // Following the ring again, B issues with the next rotation's key within the sync interval, unprompted.
    b.get(SigningKeyRing).startSync();
    const again = await cage(a.controlUrl, organizer, '--json', 'admin', 'rotate-signing-key');
    expect(again.code).toBe(0);
    const active = (JSON.parse(again.out) as { active: Key }).active;
    const deadline = Date.now() + RING_SYNC_MS * 5;
    let kid = '';
    while (Date.now() < deadline) {
      kid = kidOf(await b.get(TokenService).issueUser('x', 'auditor', null, 60));
      if (kid === active.kid) break;
      await new Promise((res) => setTimeout(res, 100));
    }
    expect(kid).toBe(active.kid);
    expect((await get(b, '/v1/audit/checkpoint/key', organizer)).body.toString().trim()).toBe(active.verifierKey);

    // A replica started later with the same configured key opens the rotated key from the database.
    const c = await replica();
    expect(kidOf(await c.get(TokenService).issueUser('x', 'auditor', null, 60))).toBe(active.kid);
  });
});
