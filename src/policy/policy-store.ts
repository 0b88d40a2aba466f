import { Logger } from '@nestjs/common';
import { type AuditLog, type RequestMeta } from '../audit/audit-log.service';
import { type Clock } from '../clock/clock';
import { type Database } from '../db/database';
import { CedarPolicyEngine } from './cedar-policy.engine';
import { checkExpectations, type ExpectationResult, ExpectationFileError } from './policy-expectations';
import { compilePolicyMap, PolicyLoadError, type PolicyFiles, type PolicyMap, readPolicyDir } from './policy-files';

export interface PolicyVersion {
  version: number;
  sha256: string;
  activatedAt: string;
  activatedBy: string;
  files: string[];
  active: boolean;
}

export interface PolicyCheck {
  ok: boolean;
  sha256: string | null;
  errors: string[];
  expectations: ExpectationResult[];
}

/** A policy set that may not become active: parse/validation errors or failed expectations. */
export class PolicyRefused extends Error {
  constructor(readonly check: PolicyCheck) {
    super(
      check.errors.length > 0
        ? `policy set is invalid: ${check.errors.join('; ')}`
        : `policy set breaks expectations: ${check.expectations
            .filter((e) => !e.passed)
            .map((e) => e.name)
            .join('; ')}`,
    );
  }
}

const SYNC_MS = 1000;

/**
 * Policy versions in the database. The highest version is the active set on every replica
 * (each polls once a second). A set becomes a version only if it parses, validates against the
 * schema and meets every expectation in its tests/; activation is one row, so it is atomic, and
 * it is logged (durable) before it takes effect. Rollback activates an earlier version's files
 * as a new version.
 */
export class PolicyStore {
  private readonly logger = new Logger('PolicyStore');
  private timer: NodeJS.Timeout | undefined;
  private syncing = false;

  private constructor(
    private readonly db: Database,
    readonly engine: CedarPolicyEngine,
    private readonly audit: AuditLog,
    private readonly clock: Clock,
  ) {}

  /**
   * The active set at start-up: the latest version, or (first start) the policy directory as
   * version 1. A directory that does not compile stops a first start.
   */
  static async open(db: Database, dir: string, audit: AuditLog, clock: Clock): Promise<PolicyStore> {
    const latest = await latestVersion(db);
    if (latest !== undefined) {
      const files = compilePolicyMap(latest.map);
      return new PolicyStore(db, new CedarPolicyEngine(files, new Date(latest.activatedAt), 'active', latest.version), audit, clock);
    }
    const map = readPolicyDir(dir);
    const files = compilePolicyMap(map);
    const store = new PolicyStore(db, new CedarPolicyEngine(files, clock.now(), 'active', 0), audit, clock);
    // The first set meets its expectations like every later one, or the gateway does not start.
    const check = store.check(map);
    if (!check.ok) throw new PolicyRefused(check);
    await store.record(files, 1, 'policy-dir', { requestId: `startup-${Date.now()}`, listener: 'internal' }, { source: dir });
    return store;
  }

  check(map: PolicyMap): PolicyCheck {
    let files: PolicyFiles;
    try {
      files = compilePolicyMap(map);
    } catch (err) {
      if (err instanceof PolicyLoadError) return { ok: false, sha256: null, errors: [err.message], expectations: [] };
      throw err;
    }
    let expectations: ExpectationResult[];
    try {
      expectations = checkExpectations(files);
    } catch (err) {
      if (err instanceof ExpectationFileError || err instanceof PolicyLoadError)
        return { ok: false, sha256: files.sha256, errors: [err.message], expectations: [] };
      throw err;
    }
    return { ok: expectations.every((e) => e.passed), sha256: files.sha256, errors: [], expectations };
  }

  async activate(map: PolicyMap, by: string, meta: RequestMeta, detail: Record<string, string | number> = {}): Promise<PolicyVersion> {
    const check = this.check(map);
    if (!check.ok) throw new PolicyRefused(check);
    const files = compilePolicyMap(map);
    const version = ((await latestVersion(this.db))?.version ?? 0) + 1;
    await this.record(files, version, by, meta, detail);
    return (await this.versions()).find((v) => v.version === version)!;
  }

  async rollback(version: number, by: string, meta: RequestMeta): Promise<PolicyVersion | undefined> {
    const { rows } = await this.db.query<{ files: string }>('SELECT files FROM policy_versions WHERE version = $1', [version]);
    if (rows[0] === undefined) return undefined;
    return this.activate(JSON.parse(rows[0].files) as PolicyMap, by, meta, { rollbackTo: version });
  }

  async versions(): Promise<PolicyVersion[]> {
    const { rows } = await this.db.query<{
      version: number;
      sha256: string;
      files: string;
      activated_at: string | Date;
      activated_by: string;
    }>('SELECT version, sha256, files, activated_at, activated_by FROM policy_versions ORDER BY version DESC');
    const active = this.engine.active.version;
    return rows.map((r) => ({
      version: Number(r.version),
      sha256: r.sha256,
      activatedAt: new Date(r.activated_at).toISOString(),
      activatedBy: r.activated_by,
      files: Object.keys(JSON.parse(r.files) as PolicyMap).sort(),
      active: Number(r.version) === active,
    }));
  }

  /** Follows activations made by other replicas (within about a second). */
  startSync(): void {
    this.timer = setInterval(() => void this.sync(), SYNC_MS);
    this.timer.unref();
  }

  stopSync(): void {
    if (this.timer !== undefined) clearInterval(this.timer);
  }

  async sync(): Promise<void> {
    if (this.syncing) return;
    this.syncing = true;
    try {
      const latest = await latestVersion(this.db);
      if (latest !== undefined && latest.version > this.engine.active.version) {
        this.engine.activate(compilePolicyMap(latest.map), new Date(latest.activatedAt), latest.version, latest.activatedBy);
        this.logger.log({ message: 'policy set activated by another replica', version: latest.version, sha256: this.engine.active.sha256 });
      }
    } catch (err) {
      this.logger.error({ message: 'policy sync failed; the current set keeps deciding', error: (err as Error).message });
    } finally {
      this.syncing = false;
    }
  }

  /** Leaf first (durable), then the version row, then the engine: an unlogged set never decides. */
  private async record(
    files: PolicyFiles,
    version: number,
    by: string,
    meta: RequestMeta,
    detail: Record<string, string | number>,
  ): Promise<void> {
    const before = this.engine.active.version === 0 ? null : this.engine.active.sha256;
    const at = this.clock.now();
    await this.audit.record(meta, {
      principal: by,
      team: null,
      action: 'policy.activate',
      decision: 'allow',
      policySet: files.sha256,
      detail: { version, before, after: files.sha256, files: files.files.length, ...detail },
    });
    await this.db.query('INSERT INTO policy_versions (version, sha256, files, activated_at, activated_by) VALUES ($1, $2, $3, $4, $5)', [
      version,
      files.sha256,
      JSON.stringify(files.map ?? {}),
      at.toISOString(),
      by,
    ]);
    this.engine.activate(files, at, version, by);
  }
}

async function latestVersion(
  db: Database,
): Promise<{ version: number; map: PolicyMap; activatedAt: string; activatedBy: string } | undefined> {
  const { rows } = await db.query<{ version: number; files: string; activated_at: string | Date; activated_by: string }>(
    'SELECT version, files, activated_at, activated_by FROM policy_versions ORDER BY version DESC LIMIT 1',
  );
  const r = rows[0];
  return r === undefined
    ? undefined
    : {
        version: Number(r.version),
        map: JSON.parse(r.files) as PolicyMap,
        activatedAt: new Date(r.activated_at).toISOString(),
        activatedBy: r.activated_by,
      };
}
