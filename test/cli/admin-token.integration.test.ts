import { generateKeyPairSync, randomBytes } from 'node:crypto';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { AuditRepository } from '../../src/audit/audit.repository';
import { loadConfig } from '../../src/config/config';
import { PostgresDatabase } from '../../src/db/postgres.database';
import { Gateway } from '../../src/gateway';
import { POSTGRES_URL } from '../support/backends';
import { POLICY_DIR } from '../support/fixture';
import { cage } from './cli-harness';

/*
 * `cage admin issue-token` against a gateway on PostgreSQL, configured as a pod would be: its own
 * database (not a test schema), the signing key from a file.
 */
const describeWithPostgres = POSTGRES_URL === undefined ? describe.skip : describe;

describeWithPostgres('cage admin issue-token (a first organizer on a deployment with no bootstrap file)', () => {
  const database = `cage_cli_${randomBytes(5).toString('hex')}`;
  const url = new URL(POSTGRES_URL ?? 'postgres://x/y');
  url.pathname = `/${database}`;
  const dir = mkdtempSync(join(tmpdir(), 'cage-issue-token-'));
  const keyFile = join(dir, 'signing-key.pem');
  writeFileSync(keyFile, generateKeyPairSync('ed25519').privateKey.export({ format: 'pem', type: 'pkcs8' }).toString(), { mode: 0o600 });
  const env = {
    CAGE_DATABASE_URL: url.toString(),
    CAGE_SIGNING_KEY_FILE: keyFile,
    CAGE_DATA_DIR: join(dir, 'data'),
    CAGE_POLICY_DIR: POLICY_DIR,
    CAGE_CONTROL_PORT: '0',
    CAGE_SANDBOX_PORT: '0',
    CAGE_DEMO: '0',
  };
  let gateway: Gateway;

  beforeAll(async () => {
    const admin = await PostgresDatabase.open(POSTGRES_URL!);
    await admin.query(`CREATE DATABASE ${database}`);
    await admin.close();
    gateway = await Gateway.start(loadConfig(env), { logger: false });
  });
  afterAll(async () => {
    await gateway?.stop();
    const admin = await PostgresDatabase.open(POSTGRES_URL!);
    await admin.query(`DROP DATABASE IF EXISTS ${database} WITH (FORCE)`);
    await admin.close();
  });

  it('mints an organizer token the gateway accepts, logged as token.issue before it is printed', async () => {
    const before = await gateway.get(AuditRepository).find({ action: 'token.issue', limit: 100 });
    const r = await cage(['admin', 'issue-token', '--role', 'organizer', '--subject', 'alice', '--ttl', '2h'], { env });
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    const token = r.stdout.trim();
    const teams = await fetch(`${gateway.controlUrl}/v1/teams`, { headers: { authorization: `Bearer ${token}` } });
    expect(teams.status).toBe(200);
    const leaves = await gateway.get(AuditRepository).find({ action: 'token.issue', limit: 100 });
    expect(leaves).toHaveLength(before.length + 1);
    expect(leaves.at(-1)!.leaf).toMatchObject({ resource: { type: 'user', id: 'alice' }, principal: expect.stringMatching(/^operator:/) });
  });

  it('should not mint with a signing key the deployment does not share', async () => {
    const other = join(dir, 'other.pem');
    writeFileSync(other, generateKeyPairSync('ed25519').privateKey.export({ format: 'pem', type: 'pkcs8' }).toString(), { mode: 0o600 });
    const r = await cage(['admin', 'issue-token', '--role', 'auditor', '--subject', 'mallory'], {
      env: { ...env, CAGE_SIGNING_KEY_FILE: other },
    });
    expect(r.code).toBe(1);
    expect(r.stderr).toContain("not this deployment's active key");
    expect(r.stdout).toBe('');
  });

  it('should not mint a contestant token, nor run without the shared database', async () => {
    const contestant = await cage(['admin', 'issue-token', '--role', 'contestant', '--subject', 'eve'], { env });
    expect(contestant.code).toBe(2);
    expect(contestant.stdout).toBe('');
    const embedded = await cage(['admin', 'issue-token', '--role', 'organizer', '--subject', 'eve'], {
      env: { ...env, CAGE_DATABASE_URL: undefined },
    });
    expect(embedded.code).toBe(2);
    expect(embedded.stderr).toContain('bootstrap.json');
  });
});
