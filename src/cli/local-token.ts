import { hostname, userInfo } from 'node:os';
import { AuditLog } from '../audit/audit-log.service';
import { AuditWriter } from '../audit/audit-writer.service';
import { MerkleStore } from '../audit/merkle-store.repository';
import { TokenService } from '../auth/token.service';
import { Clock } from '../clock/clock';
import { loadConfig } from '../config/config';
import { PostgresDatabase } from '../db/postgres.database';
import { SigningKeyRing } from '../keys/signing-key-ring';
import { SigningKeyRepository } from '../keys/signing-key.repository';
import { SigningKeys } from '../keys/signing-keys';
import { CliError, ExitCode } from './cli-error';

export interface LocalTokenRequest {
  role: 'organizer' | 'auditor';
  subject: string;
  ttlSeconds: number;
}

/**
 * A first organizer's or auditor's token on a deployment with no person able to log in yet:
 * minted where the gateway's configuration is (a gateway pod: `kubectl exec`), with the signing
 * key ring every replica shares, and logged as a `token.issue` leaf before it is printed. It needs
 * no pod's disk (bootstrap.json is the embedded default's way, and lands in one pod only).
 */
export async function issueTokenLocally(env: NodeJS.ProcessEnv, req: LocalTokenRequest): Promise<{ token: string; expiresAt: string }> {
  let config;
  try {
    config = loadConfig(env);
  } catch (err) {
    throw new CliError(ExitCode.Unreachable, `the gateway's configuration: ${(err as Error).message}`);
  }
  if (config.databaseUrl === undefined)
    throw new CliError(
      ExitCode.Usage,
      `cage admin issue-token works on a deployment with PostgreSQL (CAGE_DATABASE_URL); on the embedded default the first credentials are in ${config.dataDir}/bootstrap.json`,
    );
  let keys: SigningKeys;
  try {
    keys = SigningKeys.load({ pem: config.signingKey, file: config.signingKeyFile, dataDir: config.dataDir });
  } catch (err) {
    throw new CliError(ExitCode.Unreachable, (err as Error).message);
  }
  let db: PostgresDatabase;
  try {
    db = await PostgresDatabase.open(config.databaseUrl, undefined, 2);
  } catch (err) {
    throw new CliError(ExitCode.Unreachable, `the database: ${(err as Error).message}`);
  }
  try {
    const clock = new Clock();
    const { rows } = await db.query<{ ready: boolean }>("SELECT to_regclass('signing_keys') IS NOT NULL AS ready");
    if (rows[0]?.ready !== true) throw new CliError(ExitCode.Failed, 'the database has no gateway in it yet: start the gateway first');
    let ring: SigningKeyRing;
    try {
      ring = await SigningKeyRing.open(new SigningKeyRepository(db), keys, clock);
    } catch (err) {
      throw new CliError(ExitCode.Failed, (err as Error).message);
    }
    // A key other than the deployment's would make a gateway adopt it at its next start; here it is refused.
    if (ring.pendingAdoption !== undefined)
      throw new CliError(
        ExitCode.Failed,
        "the configured signing key is not this deployment's active key: run the command where the gateway runs (a gateway pod), with its CAGE_SIGNING_KEY_FILE",
      );
    const token = await new TokenService(ring).issueUser(req.subject, req.role, null, req.ttlSeconds);
    const expiresAt = new Date(clock.now().getTime() + req.ttlSeconds * 1000).toISOString();
    const writer = new AuditWriter(db, config.audit, new MerkleStore(db));
    try {
      // Durable before the token is printed: an unlogged credential never leaves.
      await new AuditLog(writer, clock).record(
        { requestId: `cli-issue-token-${clock.now().getTime()}`, listener: 'internal' },
        {
          principal: `operator:${userInfo().username}@${hostname()}`,
          team: null,
          action: 'token.issue',
          decision: 'allow',
          resource: { type: 'user', id: req.subject },
          detail: { after: { subject: req.subject, role: req.role, team: null, expiresAt }, via: 'cage admin issue-token' },
        },
      );
    } finally {
      await writer.close();
    }
    return { token, expiresAt };
  } finally {
    await db.close();
  }
}
