import { ConflictException, Logger } from '@nestjs/common';
import { type AuditLog, type RequestMeta } from '../audit/audit-log.service';
import { type Clock } from '../clock/clock';
import { CedarPolicyEngine } from './cedar-policy.engine';
import { checkExpectations, type ExpectationResult, ExpectationFileError } from './policy-expectations';
import { compilePolicyMap, PolicyLoadError, type PolicyFiles, type PolicyMap, readPolicyDir } from './policy-files';
import { type PolicyVersionRepository } from './policy-version.repository';

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

/** Another activation took effect between reading the active set and activating (another replica, another organizer). */
export class PolicyActivationConflict extends ConflictException {
  constructor(latest: { version: number; activatedBy: string }) {
    super(
      `policy version ${latest.version} was activated meanwhile by ${latest.activatedBy}; nothing was activated: review the active set and try again`,
    );
  }
}

const SYNC_MS = 250;

/**
 * Policy versions in the database. The highest version is the active set on every replica
 * (each polls four times a second). A set becomes a version only if it parses, validates against the
 * schema and meets every expectation in its tests/; activation is one row, so it is atomic, and
 * it is logged (durable) before it takes effect. Rollback activates an earlier version's files
 * as a new version.
 */
export class PolicyStore {
  private readonly logger = new Logger('PolicyStore');
  private timer: NodeJS.Timeout | undefined;
  private syncing = false;
  private refusedVersion: number | undefined;

  private constructor(
    private readonly versionsRepo: PolicyVersionRepository,
    readonly engine: CedarPolicyEngine,
    private readonly audit: AuditLog,
    private readonly clock: Clock,
  ) {}

  /**
   * The active set at start-up: the latest version, or (first start) the policy directory as
   * version 1. A directory that does not compile stops a first start.
   *
   * A stored set is checked again like a new one: rules this gateway version enforces only in
   * policy (byte quotas, manifests, budgets, two approvals) must be in it. One stored by an older
   * version that lacks them is replaced by the policy directory as a new version (logged), or,
   * if the directory fails too, the gateway does not start: it never decides with a set that
   * would let through what the code no longer stops.
   *
   * Under the activation lock: replicas starting together store one first version between them.
   */
  static open(repo: PolicyVersionRepository, dir: string, audit: AuditLog, clock: Clock): Promise<PolicyStore> {
    return repo.withActivationLock(() => PolicyStore.openLocked(repo, dir, audit, clock));
  }

  private static async openLocked(repo: PolicyVersionRepository, dir: string, audit: AuditLog, clock: Clock): Promise<PolicyStore> {
    const latest = await repo.latest();
    let replaces: { version: number; problems: string } | undefined;
    if (latest !== undefined) {
      const files = compilePolicyMap(latest.map);
      const store = new PolicyStore(
        repo,
        new CedarPolicyEngine(files, new Date(latest.activatedAt), 'active', latest.version),
        audit,
        clock,
      );
      const stored = store.check(latest.map);
      if (stored.ok) return store;
      replaces = { version: latest.version, problems: new PolicyRefused(stored).message.slice(0, 1000) };
      new Logger('PolicyStore').error({
        message: "the stored policy set fails this version's checks; activating the policy directory instead",
        ...replaces,
      });
    }
    const map = readPolicyDir(dir);
    const files = compilePolicyMap(map);
    const store = new PolicyStore(repo, new CedarPolicyEngine(files, clock.now(), 'active', latest?.version ?? 0), audit, clock);
    // The first set meets its expectations like every later one, or the gateway does not start.
    const check = store.check(map);
    if (!check.ok) throw new PolicyRefused(check);
    const detail: Record<string, string | number> = {
      source: dir,
      ...(replaces === undefined ? {} : { replaces: replaces.version, because: replaces.problems }),
    };
    await store.record(
      files,
      (latest?.version ?? 0) + 1,
      'policy-dir',
      { requestId: `startup-${clock.now().getTime()}`, listener: 'internal' },
      detail,
    );
    return store;
  }

  check(map: PolicyMap): PolicyCheck {
    return this.compileChecked(map).check;
  }

  /** The check, and the compiled set when it compiled (so a caller that activates it compiles once). */
  private compileChecked(map: PolicyMap): { check: PolicyCheck; files?: PolicyFiles } {
    let files: PolicyFiles;
    try {
      files = compilePolicyMap(map);
    } catch (err) {
      if (err instanceof PolicyLoadError) return { check: { ok: false, sha256: null, errors: [err.message], expectations: [] } };
      throw err;
    }
    let expectations: ExpectationResult[];
    try {
      expectations = checkExpectations(files);
    } catch (err) {
      if (err instanceof ExpectationFileError || err instanceof PolicyLoadError)
        return { check: { ok: false, sha256: files.sha256, errors: [err.message], expectations: [] }, files };
      throw err;
    }
    return { check: { ok: expectations.every((e) => e.passed), sha256: files.sha256, errors: [], expectations }, files };
  }

  /**
   * Activates a set as the next version, one activation at a time across replicas (an advisory
   * lock), with a leaf only for an activation that takes effect:
   * - a set whose content is the latest version's activates nothing and returns that version, so
   *   replicas whose watchers see the same new files converge on one version;
   * - `request` (an organizer's activation or rollback): if another activation took effect since
   *   this one began, nothing is activated and PolicyActivationConflict (409) says by whom;
   *   `converge` (the policy directory, the source of truth): the directory wins.
   */
  async activate(
    map: PolicyMap,
    by: string,
    meta: RequestMeta,
    detail: Record<string, string | number> = {},
    mode: 'request' | 'converge' = 'request',
  ): Promise<PolicyVersion> {
    const base = (await this.versionsRepo.latestVersion()) ?? 0;
    // Compiled once: the check's own compile is the set that is activated.
    const { check, files } = this.compileChecked(map);
    if (!check.ok || files === undefined) throw new PolicyRefused(check);
    const version = await this.versionsRepo.withActivationLock(async () => {
      const latest = await this.versionsRepo.latest();
      if (latest !== undefined && latest.sha256 === files.sha256) {
        await this.sync();
        return latest.version;
      }
      if (mode === 'request' && latest !== undefined && latest.version !== base) throw new PolicyActivationConflict(latest);
      const next = (latest?.version ?? 0) + 1;
      await this.record(files, next, by, meta, detail);
      return next;
    });
    return (await this.versions()).find((v) => v.version === version)!;
  }

  async rollback(version: number, by: string, meta: RequestMeta): Promise<PolicyVersion | undefined> {
    const earlier = await this.versionsRepo.get(version);
    if (earlier === undefined) return undefined;
    return this.activate(earlier.map, by, meta, { rollbackTo: version });
  }

  async versions(): Promise<PolicyVersion[]> {
    const active = this.engine.active.version;
    return (await this.versionsRepo.list()).map((r) => ({
      version: r.version,
      sha256: r.sha256,
      activatedAt: r.activatedAt,
      activatedBy: r.activatedBy,
      files: Object.keys(r.map).sort(),
      active: r.version === active,
    }));
  }

  /** Follows activations made by other replicas (polls every 250 ms: every replica follows within a second). */
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
      // The version number alone, four times a second; the set itself only when it is newer.
      const newest = await this.versionsRepo.latestVersion();
      if (newest === undefined || newest <= this.engine.active.version) return;
      const latest = await this.versionsRepo.latest();
      if (latest !== undefined && latest.version > this.engine.active.version) {
        // A set another replica (of an older version) stored without the rules this one needs
        // in policy never decides here; the current set keeps deciding.
        const { check, files } = this.compileChecked(latest.map);
        if (!check.ok) {
          if (this.refusedVersion !== latest.version)
            this.logger.error({
              message: "a newer stored policy set fails this version's checks; not activated",
              version: latest.version,
              problems: new PolicyRefused(check).message.slice(0, 1000),
            });
          this.refusedVersion = latest.version;
          return;
        }
        this.engine.activate(files ?? compilePolicyMap(latest.map), new Date(latest.activatedAt), latest.version, latest.activatedBy);
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
    await this.versionsRepo.insert({ version, sha256: files.sha256, map: files.map ?? {}, activatedAt: at.toISOString(), activatedBy: by });
    this.engine.activate(files, at, version, by);
  }
}
