import { randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadPseudonymKey, pseudonymKeyFingerprint } from '../../src/keys/pseudonym-key';
import { type SigningKey, type SigningKeyRotation } from '../../src/cli/api-types';
import { cage, FakeApi } from './cli-harness';

const mode = (file: string) => statSync(file).mode & 0o777;

describe('cage admin pseudonym-key (local files, never the API)', () => {
  let dir: string;
  beforeEach(() => (dir = mkdtempSync(join(tmpdir(), 'cage-pk-'))));
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('exports the data dir key to a 0600 file and prints the fingerprint the fingerprint command prints', async () => {
    const dataDir = join(dir, 'data');
    const key = loadPseudonymKey({ dataDir });
    const fp = await cage(['admin', 'pseudonym-key', 'fingerprint'], { env: { CAGE_DATA_DIR: dataDir } });
    expect(fp).toEqual({ code: 0, stdout: `${pseudonymKeyFingerprint(key)}\n`, stderr: '' });
    expect(fp.stdout).toMatch(/^sha256:[0-9a-f]{4}(-[0-9a-f]{4}){7}\n$/);

    const out = join(dir, 'backup', 'pseudonym-key');
    const r = await cage(['admin', 'pseudonym-key', 'export', '--out', out], { env: { CAGE_DATA_DIR: dataDir } });
    expect(r.code).toBe(0);
    expect(r.stdout).toContain(`fingerprint ${pseudonymKeyFingerprint(key)}`);
    expect(r.stdout).not.toContain(key.toString('base64'));
    expect(Buffer.from(readFileSync(out, 'utf8').trim(), 'base64').equals(key)).toBe(true);
    expect(mode(out)).toBe(0o600);
    expect((await cage(['admin', 'pseudonym-key', 'export', '--out', out], { env: { CAGE_DATA_DIR: dataDir } })).stdout).toContain(
      'already exported',
    );
  });

  it('imports a backup copy into an empty data dir (0600) so the gateway loads the same key', async () => {
    const key = randomBytes(32);
    const copy = join(dir, 'copy');
    writeFileSync(copy, `${key.toString('base64')}\n`);
    const dataDir = join(dir, 'fresh');
    const r = await cage(['--json', 'admin', 'pseudonym-key', 'import', copy], { env: { CAGE_DATA_DIR: dataDir } });
    expect(r.code).toBe(0);
    expect(JSON.parse(r.stdout)).toEqual({
      file: join(dataDir, 'keys', 'pseudonym-key'),
      fingerprint: pseudonymKeyFingerprint(key),
      written: true,
    });
    expect(mode(join(dataDir, 'keys', 'pseudonym-key'))).toBe(0o600);
    expect(mode(join(dataDir, 'keys'))).toBe(0o700);
    expect(loadPseudonymKey({ dataDir }).equals(key)).toBe(true);
    // CAGE_PSEUDONYM_KEY_FILE names the target as it does for the gateway.
    const file = join(dir, 'secrets', 'pk');
    expect((await cage(['admin', 'pseudonym-key', 'import', copy], { env: { CAGE_PSEUDONYM_KEY_FILE: file } })).code).toBe(0);
    expect(loadPseudonymKey({ file, dataDir: '/nonexistent' }).equals(key)).toBe(true);
  });

  it('should not replace a different key without --force (exit 6), and replaces it with --force', async () => {
    const dataDir = join(dir, 'data');
    const current = loadPseudonymKey({ dataDir });
    const other = randomBytes(32);
    const copy = join(dir, 'other');
    writeFileSync(copy, other.toString('base64'));
    const refused = await cage(['admin', 'pseudonym-key', 'import', copy], { env: { CAGE_DATA_DIR: dataDir } });
    expect(refused.code).toBe(6);
    expect(refused.stderr).toContain(`a different pseudonym key (${pseudonymKeyFingerprint(current)}); --force replaces it`);
    expect(loadPseudonymKey({ dataDir }).equals(current)).toBe(true);

    const same = join(dir, 'same');
    writeFileSync(same, current.toString('base64'));
    const noop = await cage(['admin', 'pseudonym-key', 'import', same], { env: { CAGE_DATA_DIR: dataDir } });
    expect(noop.code).toBe(0);
    expect(noop.stdout).toContain('already in place');

    const forced = await cage(['admin', 'pseudonym-key', 'import', copy, '--force'], { env: { CAGE_DATA_DIR: dataDir } });
    expect(forced.code).toBe(0);
    expect(loadPseudonymKey({ dataDir }).equals(other)).toBe(true);
  });

  it('should not import a file that is not a 32-byte key, nor export a key that does not exist', async () => {
    const dataDir = join(dir, 'data');
    const bad = join(dir, 'bad');
    writeFileSync(bad, randomBytes(16).toString('base64'));
    const r = await cage(['admin', 'pseudonym-key', 'import', bad], { env: { CAGE_DATA_DIR: dataDir } });
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('must be 32 bytes');
    const missing = await cage(['admin', 'pseudonym-key', 'export', '--out', join(dir, 'x')], { env: { CAGE_DATA_DIR: dataDir } });
    expect(missing.code).toBe(5);
    expect(missing.stderr).toContain('does not exist');
    mkdirSync(dataDir, { recursive: true });
    expect((await cage(['admin', 'pseudonym-key', 'fingerprint'], { env: { CAGE_DATA_DIR: dataDir } })).code).toBe(5);
  });
});

describe('cage admin rotate-signing-key', () => {
  let api: FakeApi;
  const key = (kid: string, active: boolean): SigningKey => ({
    kid,
    keyId: '0a1b2c3d',
    verifierKey: `cage.local/audit+0a1b2c3d+${kid}`,
    notBefore: '2026-01-01T00:00:00.000Z',
    notAfter: active ? null : '2026-02-01T00:00:00.000Z',
    tokensUntil: active ? null : '2026-02-02T00:00:00.000Z',
    active,
  });
  beforeAll(async () => (api = await new FakeApi().start()));
  afterAll(() => api.stop());
  beforeEach(() => api.requests.splice(0));

  it('sends the grace in seconds (none by default, 0 to refuse old tokens at once) and prints both keys', async () => {
    const rotation: SigningKeyRotation = { retired: key('old', false), active: key('new', true) };
    api.on('POST /v1/keys/signing/rotate', { status: 201, body: rotation });
    const plain = await cage(['admin', 'rotate-signing-key'], { env: api.env() });
    expect(plain.code).toBe(0);
    expect(plain.stdout).toContain('retired old (checkpoint key 0a1b2c3d); its tokens are accepted until 2026-02-02T00:00:00Z');
    expect(plain.stdout).toContain('verifier key: cage.local/audit+0a1b2c3d+new');
    await cage(['admin', 'rotate-signing-key', '--token-grace', '0'], { env: api.env() });
    await cage(['admin', 'rotate-signing-key', '--token-grace', '24h'], { env: api.env() });
    expect(api.requests.map((r) => r.body)).toEqual([{}, { tokenGraceSeconds: 0 }, { tokenGraceSeconds: 86400 }]);
  });

  it('should not send anything for a bad grace (exit 2)', async () => {
    const r = await cage(['admin', 'rotate-signing-key', '--token-grace', 'soon'], { env: api.env() });
    expect(r.code).toBe(2);
    expect(api.requests).toEqual([]);
  });
});
