import { type INestApplicationContext, Logger } from '@nestjs/common';
import { AuditLog } from '../audit/audit-log.service';
import { Clock } from '../clock/clock';
import { CAGE_CONFIG, type CageConfig } from '../config/config';
import { DatasetRepository } from '../datasets/dataset.repository';
import { SeriesRepository } from '../datasets/series.repository';
import { GatewayStateRepository } from '../db/gateway-state.repository';
import { GrantRepository } from '../grants/grant.repository';
import { JobRepository } from '../jobs/job.repository';
import { JobService } from '../jobs/job.service';
import { ObjectStore } from '../storage/object-store.service';
import { TeamRepository } from '../teams/team.repository';
import { CONTROL_AUDIENCE, SANDBOX_AUDIENCE, TokenService } from '../auth/token.service';
import { type Bootstrap, bootstrapPath, readBootstrap, writeBootstrap } from './bootstrap-file';
import { DEMO_TEAM, DemoSeeder } from './demo-seeder';
import { writeDemoRawExport } from './demo-raw-export';

const STATE_KEY = 'bootstrapped';
const ADMIN_TOKEN_TTL_S = 365 * 24 * 3600;
const DEMO_JOB_TTL_S = 24 * 3600;

/**
 * First start with an empty database: seed the demo (when enabled), issue an organizer and an
 * auditor token and the demo job, and write them to bootstrap.json (0600). Later starts reuse
 * the data: the file's URLs are refreshed, its tokens stay valid, and only a demo job that has
 * expired or was revoked is replaced. Only the file's path is printed, never a secret.
 */
export async function ensureBootstrap(
  services: INestApplicationContext,
  urls: Pick<Bootstrap, 'controlUrl' | 'sandboxUrl' | 's3Endpoint' | 's3Region'>,
): Promise<{ bootstrap: Bootstrap; file: string } | undefined> {
  const logger = new Logger('Bootstrap');
  const get = <T>(token: abstract new (...args: never[]) => T): T => services.get(token, { strict: false });
  const config = services.get<string, CageConfig>(CAGE_CONFIG, { strict: false });
  const clock = get(Clock);
  const tokens = get(TokenService);
  const jobService = get(JobService);
  const state = get(GatewayStateRepository);
  const meta = { requestId: `bootstrap-${clock.now().getTime()}`, listener: 'internal' as const };
  const dataDir = config.dataDir;

  if ((await state.get(STATE_KEY)) === undefined) {
    let demoJob: Bootstrap['demoJob'];
    if (config.demo) {
      const seeder = new DemoSeeder(
        get(ObjectStore),
        get(DatasetRepository),
        get(TeamRepository),
        get(GrantRepository),
        get(SeriesRepository),
        get(AuditLog),
        clock,
      );
      const seeded = await seeder.seed(meta);
      logger.log(`demo competition seeded: ${seeded.objects} objects, ${seeded.bytes} bytes`);
      const raw = writeDemoRawExport(config.ingest.root);
      if (raw !== undefined) logger.log(`a synthetic raw export to try \`cage ingest\` on: ${raw}`);
      demoJob = await jobService.issue(DEMO_TEAM, DEMO_JOB_TTL_S, 'gateway', meta);
    }
    const bootstrap: Bootstrap = {
      ...urls,
      organizerToken: await tokens.issueUser('bootstrap-organizer', 'organizer', null, ADMIN_TOKEN_TTL_S),
      auditorToken: await tokens.issueUser('bootstrap-auditor', 'auditor', null, ADMIN_TOKEN_TTL_S),
      ...(demoJob === undefined ? {} : { demoJob }),
    };
    const file = writeBootstrap(dataDir, bootstrap);
    await state.set(STATE_KEY, clock.now().toISOString());
    logger.log(`bootstrap credentials written to ${file}`);
    return { bootstrap, file };
  }

  const existing = readBootstrap(dataDir);
  if (existing === undefined) {
    logger.warn(`${bootstrapPath(dataDir)} is missing; issue credentials with the signing key instead`);
    return undefined;
  }
  const next: Bootstrap = { ...existing, ...urls };
  // A signing-key rotation whose grace is over (or a replaced configured key) leaves tokens that
  // no longer verify: the file's are issued again, with the active key.
  const verifies = (token: string, audience: typeof CONTROL_AUDIENCE | typeof SANDBOX_AUDIENCE) =>
    tokens.verify(token, audience).then(
      () => true,
      () => false,
    );
  if (!(await verifies(existing.organizerToken, CONTROL_AUDIENCE)) || !(await verifies(existing.auditorToken, CONTROL_AUDIENCE))) {
    next.organizerToken = await tokens.issueUser('bootstrap-organizer', 'organizer', null, ADMIN_TOKEN_TTL_S);
    next.auditorToken = await tokens.issueUser('bootstrap-auditor', 'auditor', null, ADMIN_TOKEN_TTL_S);
    logger.log('the bootstrap tokens no longer verified (signing key retired): new ones were issued');
  }
  if (existing.demoJob !== undefined) {
    const job = await get(JobRepository).get(existing.demoJob.jobId);
    if (
      job === undefined ||
      job.revokedAt !== null ||
      job.expiresAt <= clock.now() ||
      !(await verifies(existing.demoJob.token, SANDBOX_AUDIENCE))
    ) {
      next.demoJob = await jobService.issue(DEMO_TEAM, DEMO_JOB_TTL_S, 'gateway', meta);
      logger.log('the demo job had expired, was revoked or its token was signed by a retired key: a new one was issued');
    }
  }
  const file = writeBootstrap(dataDir, next);
  logger.log(`bootstrap credentials in ${file}`);
  return { bootstrap: next, file };
}
