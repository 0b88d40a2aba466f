import { chmodSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { Logger } from '@nestjs/common';
import { AuditLog } from './audit/audit-log.service';
import { AuditWriter } from './audit/audit-writer.service';
import { AuditRepository } from './audit/audit.repository';
import { SiemMirror } from './audit/siem.transport';
import { AuditExport } from './audit/audit-export.service';
import { ComplianceReportsRepository } from './audit/compliance-reports.repository';
import { ComplianceReports } from './audit/compliance-reports.service';
import { CheckpointRepository } from './audit/checkpoint.repository';
import { CHECKPOINT_BUCKET, Checkpointer } from './audit/checkpointer.service';
import { countLeaf } from './audit/leaf-metrics';
import { MerkleStore } from './audit/merkle-store.repository';
import { OidcIssuerRepository } from './auth/oidc-issuer.repository';
import { OidcIssuers } from './auth/oidc-issuers';
import { TokenService } from './auth/token.service';
import { Clock } from './clock/clock';
import { type CageConfig } from './config/config';
import { DatasetAdminService } from './control/dataset-admin.service';
import { GrantService } from './control/grant.service';
import { JobService } from './control/job.service';
import { TeamService } from './control/team.service';
import { DataPlaneService } from './data-plane/data-plane.service';
import { ListCursors } from './data-plane/list-cursor';
import { DatasetRepository } from './datasets/dataset.repository';
import { IndexRunRepository } from './datasets/index-run.repository';
import { ManifestRepository } from './datasets/manifest.repository';
import { IngestRunRepository } from './ingest/ingest-run.repository';
import { IngestService } from './ingest/ingest.service';
import { PseudonymRepository } from './ingest/pseudonym.repository';
import { SeriesRepository } from './datasets/series.repository';
import { type Database } from './db/database';
import { GatewayStateRepository } from './db/gateway-state.repository';
import { MeteredDatabase } from './db/metered.database';
import { migrate } from './db/migrator';
import { PgliteDatabase } from './db/pglite.database';
import { PostgresDatabase } from './db/postgres.database';
import { GrantRepository } from './grants/grant.repository';
import { HELD_BUCKET, OUTBOX_BUCKET, QUARANTINE_BUCKET, Releaser } from './egress/egress-release';
import { EgressReceiptsService } from './egress/egress-receipts.service';
import { EgressReviewService } from './egress/egress-review.service';
import { ReviewerIndependence } from './egress/reviewer-independence';
import { ReviewerRepository } from './egress/reviewer.repository';
import { EgressService } from './egress/egress.service';
import { EgressRepository } from './egress/egress.repository';
import { OutboxReconciler } from './egress/outbox-reconciler';
import { JobSecrets } from './keys/job-secrets';
import { JobRepository } from './keys/job.repository';
import { SigningKeys } from './keys/signing-keys';
import { SigningKeyRing } from './keys/signing-key-ring';
import { SigningKeyRepository } from './keys/signing-key.repository';
import { SigningKeyService } from './control/signing-key.service';
import { loadPseudonymKey } from './keys/pseudonym-key';
import { CageMetrics } from './metrics/metrics.registry';
import { HealthService } from './ops/health.service';
import { CedarPolicyEngine } from './policy/cedar-policy.engine';
import { PolicyStore } from './policy/policy-store';
import { PolicyVersionRepository } from './policy/policy-version.repository';
import { PolicyWatcher } from './policy/policy-watcher';
import { EmbeddedS3 } from './storage/embedded-s3';
import { ObjectStore } from './storage/object-store.service';
import { TeamRepository } from './teams/team.repository';

/**
 * The composition root: every stateful service of the gateway, built once per process in
 * dependency order (config → keys, db, storage → audit → policy → services) and shared by both
 * listeners. Built by hand rather than by a Nest container so that the two listener apps
 * share one instance of each, and so start-up and shutdown order are explicit.
 */
export class Core {
  private constructor(
    readonly config: CageConfig,
    readonly clock: Clock,
    readonly keys: SigningKeys,
    readonly db: Database,
    readonly store: ObjectStore,
    private readonly embeddedS3: EmbeddedS3 | undefined,
    private readonly siem: SiemMirror | undefined,
    readonly datasets: DatasetRepository,
    readonly teams: TeamRepository,
    readonly grants: GrantRepository,
    readonly series: SeriesRepository,
    readonly jobs: JobRepository,
    readonly jobSecrets: JobSecrets,
    readonly auditWriter: AuditWriter,
    readonly auditLog: AuditLog,
    readonly auditRepo: AuditRepository,
    readonly policy: CedarPolicyEngine,
    readonly policyStore: PolicyStore,
    readonly policyWatcher: PolicyWatcher,
    readonly tokens: TokenService,
    readonly dataPlane: DataPlaneService,
    readonly jobService: JobService,
    readonly health: HealthService,
    readonly egressRepo: EgressRepository,
    readonly egress: EgressService,
    readonly egressReviews: EgressReviewService,
    readonly egressReceipts: EgressReceiptsService,
    readonly reconciler: OutboxReconciler,
    readonly teamService: TeamService,
    readonly grantService: GrantService,
    readonly datasetAdmin: DatasetAdminService,
    readonly oidc: OidcIssuers,
    readonly tree: MerkleStore,
    readonly checkpointer: Checkpointer,
    readonly auditExport: AuditExport,
    readonly reports: ComplianceReports,
    readonly ingest: IngestService,
    readonly keyRing: SigningKeyRing,
    readonly signingKeys: SigningKeyService,
    readonly metrics: CageMetrics,
    readonly gatewayState: GatewayStateRepository,
    readonly cursors: ListCursors,
  ) {}

  static async build(config: CageConfig, opts: { clock?: Clock; db?: Database } = {}): Promise<Core> {
    // What was started before a failure is stopped again: a gateway that cannot start leaves
    // nothing listening and no database open.
    const opened: (() => Promise<void>)[] = [];
    try {
      return await Core.assemble(config, opts, opened);
    } catch (err) {
      for (const close of opened.reverse()) await close().catch(() => undefined);
      throw err;
    }
  }

  private static async assemble(
    config: CageConfig,
    opts: { clock?: Clock; db?: Database },
    opened: (() => Promise<void>)[],
  ): Promise<Core> {
    const logger = new Logger('Core');
    mkdirSync(config.dataDir, { recursive: true, mode: 0o700 });
    // It holds the signing key and bootstrap credentials: owner only, even if it existed before.
    chmodSync(config.dataDir, 0o700);
    const clock = opts.clock ?? new Clock();
    const keys = SigningKeys.load({ pem: config.signingKey, file: config.signingKeyFile, dataDir: config.dataDir });
    // One registry per gateway, handed to what records (GET /metrics on the control listener).
    const metrics = new CageMetrics();

    let embeddedS3: EmbeddedS3 | undefined;
    let endpoint = config.s3.endpoint;
    if (endpoint === undefined) {
      const s3 = await EmbeddedS3.start(join(config.dataDir, 's3'));
      opened.push(() => s3.stop());
      embeddedS3 = s3;
      endpoint = s3.endpoint;
      logger.log(`embedded object store (s3rver) on ${endpoint}`);
    }
    const store = new ObjectStore({ ...config.s3, endpoint }, metrics);
    opened.push(() => Promise.resolve(store.destroy()));

    const database =
      opts.db ??
      (config.databaseUrl === undefined
        ? await PgliteDatabase.open(join(config.dataDir, 'pglite'))
        : await PostgresDatabase.open(config.databaseUrl));
    const db = new MeteredDatabase(database, metrics);
    opened.push(() => db.close());
    const applied = await migrate(db);
    if (applied.length > 0) logger.log(`database migrations applied: ${applied.join(', ')}`);
    // Leaves written before the tree existed get their nodes before anything is appended.
    const caughtUp = await new MerkleStore(db).catchUp();
    if (caughtUp > 0) logger.log(`audit tree: ${caughtUp} earlier leaves added`);
    // The configured key is the root of the ring the replicas share (rotations: signing-key-ring.ts).
    const keyRing = await SigningKeyRing.open(new SigningKeyRepository(db), keys, clock);
    keyRing.startSync();
    opened.push(() => Promise.resolve(keyRing.stopSync()));

    const tree = new MerkleStore(db);
    const auditWriter = new AuditWriter(db, config.audit, tree, metrics);
    auditWriter.onCommitted((leaf) => countLeaf(metrics, leaf));
    const siem = config.siemFile === undefined ? undefined : new SiemMirror(config.siemFile);
    if (siem !== undefined) auditWriter.onCommitted((leaf, index, hash) => siem.write(leaf, index, hash));
    const auditLog = new AuditLog(auditWriter, clock);
    // The active policy set: the latest version, or the policy directory on a first start (a
    // gateway with no valid policy cannot decide anything, so it does not start). Then the
    // directory, if it changed while the gateway was down.
    const gatewayState = new GatewayStateRepository(db);
    const policyStore = await PolicyStore.open(new PolicyVersionRepository(db), config.policyDir, auditLog, clock);
    const policy = policyStore.engine;
    const policyWatcher = new PolicyWatcher(config.policyDir, policyStore, gatewayState, auditLog);
    await policyWatcher.reload();

    const datasets = new DatasetRepository(db);
    const teams = new TeamRepository(db);
    const grants = new GrantRepository(db);
    const jobs = new JobRepository(db);
    const tokens = new TokenService(keyRing);
    const series = new SeriesRepository(db);
    const manifest = new ManifestRepository(db);
    const ingestRuns = new IngestRunRepository(db);
    const interrupted = await ingestRuns.markInterrupted(clock.now());
    if (interrupted > 0) new Logger('Core').warn(`${interrupted} ingest run(s) were cut short by the last stop; run them again to resume`);
    mkdirSync(config.ingest.root, { recursive: true });
    const rawStore =
      config.ingest.rawS3 === undefined ? store : new ObjectStore({ ...config.ingest.rawS3, timeoutMs: config.s3.timeoutMs }, metrics);
    const egressRepo = new EgressRepository(db);
    const releaser = new Releaser(store, egressRepo, auditLog, clock);
    for (const bucket of [OUTBOX_BUCKET, HELD_BUCKET, QUARANTINE_BUCKET]) await store.ensureBucket(bucket);
    // Before any listener accepts egress: finish or fail what a crash left half-released.
    await store.ensureBucket(CHECKPOINT_BUCKET);
    const checkpointer = new Checkpointer(db, new CheckpointRepository(db), tree, keyRing, store, clock, config.checkpoint);
    const signingKeys = new SigningKeyService(keyRing, checkpointer, auditLog, clock, config.checkpoint.origin);
    await signingKeys.adoptConfiguredKey({ requestId: `startup-${Date.now()}`, listener: 'internal' });
    auditWriter.onCommitted(() => checkpointer.onLeaves(1));
    metrics.checkpointLagFrom(() => checkpointer.lag());
    const reconciler = new OutboxReconciler(egressRepo, store, auditLog, clock);
    await reconciler.reconcile();
    return new Core(
      config,
      clock,
      keys,
      db,
      store,
      embeddedS3,
      siem,
      datasets,
      teams,
      grants,
      series,
      jobs,
      new JobSecrets(jobs, keys),
      auditWriter,
      auditLog,
      new AuditRepository(db),
      policy,
      policyStore,
      policyWatcher,
      tokens,
      new DataPlaneService(datasets, grants, policy, store, auditLog, clock, manifest, metrics),
      new JobService(jobs, tokens, keys, auditLog, clock),
      new HealthService(db, store, OUTBOX_BUCKET),
      egressRepo,
      new EgressService(policy, grants, datasets, series, egressRepo, store, releaser, auditLog, clock, config.egress),
      new EgressReviewService(
        egressRepo,
        new ReviewerRepository(db),
        new ReviewerIndependence(policy, teams, jobs, clock),
        store,
        releaser,
        auditLog,
        clock,
      ),
      new EgressReceiptsService(egressRepo, store, clock, config.egress.publishSeconds),
      reconciler,
      new TeamService(teams, auditLog, clock),
      new GrantService(grants, teams, datasets, auditLog, clock),
      new DatasetAdminService(new IndexRunRepository(db), datasets, series, store, auditLog, clock, manifest),
      new OidcIssuers(new OidcIssuerRepository(db), () => clock.now().getTime()),
      tree,
      checkpointer,
      new AuditExport(new AuditRepository(db), tree),
      new ComplianceReports(new ComplianceReportsRepository(db)),
      new IngestService(
        datasets,
        manifest,
        series,
        ingestRuns,
        new PseudonymRepository(db, loadPseudonymKey({ file: config.ingest.pseudonymKeyFile, dataDir: config.dataDir })),
        store,
        rawStore,
        config.ingest.root,
        auditLog,
        clock,
      ),
      keyRing,
      signingKeys,
      metrics,
      gatewayState,
      new ListCursors(keys.cursorKey),
    );
  }

  /** Shutdown after the listeners are closed: pending leaves flushed, then the stores closed. */
  async close(): Promise<void> {
    this.policyStore.stopSync();
    this.keyRing.stopSync();
    await this.ingest.stop();
    await this.checkpointer.stop();
    await this.policyWatcher.stop();
    await this.auditWriter.close();
    await this.siem?.close();
    await this.db.close();
    this.store.destroy();
    await this.embeddedS3?.stop();
  }
}
