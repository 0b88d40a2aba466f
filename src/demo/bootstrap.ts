import { Logger } from '@nestjs/common';
import { CONTROL_AUDIENCE, SANDBOX_AUDIENCE } from '../auth/token.service';
import { type Core } from '../core';
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
  core: Core,
  urls: Pick<Bootstrap, 'controlUrl' | 'sandboxUrl' | 's3Endpoint' | 's3Region'>,
): Promise<{ bootstrap: Bootstrap; file: string } | undefined> {
  const logger = new Logger('Bootstrap');
  const meta = { requestId: `bootstrap-${core.clock.now().getTime()}`, listener: 'internal' as const };
  const dataDir = core.config.dataDir;

  if ((await core.gatewayState.get(STATE_KEY)) === undefined) {
    let demoJob: Bootstrap['demoJob'];
    if (core.config.demo) {
      const seeder = new DemoSeeder(core.store, core.datasets, core.teams, core.grants, core.series, core.auditLog, core.clock);
      const seeded = await seeder.seed(meta);
      logger.log(`demo competition seeded: ${seeded.objects} objects, ${seeded.bytes} bytes`);
      const raw = writeDemoRawExport(core.config.ingest.root);
      if (raw !== undefined) logger.log(`a synthetic raw export to try \`cage ingest\` on: ${raw}`);
      demoJob = await core.jobService.issue(DEMO_TEAM, DEMO_JOB_TTL_S, 'gateway', meta);
    }
    const bootstrap: Bootstrap = {
      ...urls,
      organizerToken: await core.tokens.issueUser('bootstrap-organizer', 'organizer', null, ADMIN_TOKEN_TTL_S),
      auditorToken: await core.tokens.issueUser('bootstrap-auditor', 'auditor', null, ADMIN_TOKEN_TTL_S),
      ...(demoJob === undefined ? {} : { demoJob }),
    };
    const file = writeBootstrap(dataDir, bootstrap);
    await core.gatewayState.set(STATE_KEY, core.clock.now().toISOString());
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
    core.tokens.verify(token, audience).then(
      () => true,
      () => false,
    );
  if (!(await verifies(existing.organizerToken, CONTROL_AUDIENCE)) || !(await verifies(existing.auditorToken, CONTROL_AUDIENCE))) {
    next.organizerToken = await core.tokens.issueUser('bootstrap-organizer', 'organizer', null, ADMIN_TOKEN_TTL_S);
    next.auditorToken = await core.tokens.issueUser('bootstrap-auditor', 'auditor', null, ADMIN_TOKEN_TTL_S);
    logger.log('the bootstrap tokens no longer verified (signing key retired): new ones were issued');
  }
  if (existing.demoJob !== undefined) {
    const job = await core.jobs.get(existing.demoJob.jobId);
    if (
      job === undefined ||
      job.revokedAt !== null ||
      job.expiresAt <= core.clock.now() ||
      !(await verifies(existing.demoJob.token, SANDBOX_AUDIENCE))
    ) {
      next.demoJob = await core.jobService.issue(DEMO_TEAM, DEMO_JOB_TTL_S, 'gateway', meta);
      logger.log('the demo job had expired, was revoked or its token was signed by a retired key: a new one was issued');
    }
  }
  const file = writeBootstrap(dataDir, next);
  logger.log(`bootstrap credentials in ${file}`);
  return { bootstrap: next, file };
}
