import { AuditExport } from '../src/audit/audit-export.service';
import { AuditLog } from '../src/audit/audit-log.service';
import { Checkpointer } from '../src/audit/checkpointer.service';
import { DatasetAdminService } from '../src/datasets/dataset-admin.service';
import { GrantService } from '../src/grants/grant.service';
import { JobService } from '../src/jobs/job.service';
import { SigningKeyService } from '../src/audit/signing-key.service';
import { TeamService } from '../src/teams/team.service';
import { DataPlaneService } from '../src/data-plane/data-plane.service';
import { EgressReviewService } from '../src/egress/egress-review.service';
import { EgressReceiptsService } from '../src/egress/egress-receipts.service';
import { EgressService } from '../src/egress/egress.service';
import { IngestService } from '../src/ingest/ingest.service';
import { PolicyStore } from '../src/policy/policy-store';
import { PolicyEngine } from '../src/policy/policy.types';
import { TokenService } from '../src/auth/token.service';
import { Clock } from '../src/clock/clock';
import { HealthService } from '../src/ops/health.service';
import { type Fixture, startFixture } from './support/fixture';

/** Each listener app's container holds only what that listener serves. */
describe('listener isolation', () => {
  let f: Fixture;
  beforeAll(async () => {
    f = await startFixture({ db: 'pglite' });
  });
  afterAll(async () => {
    await f?.stop();
  });

  it.each([
    ['DatasetAdminService', DatasetAdminService],
    ['GrantService', GrantService],
    ['JobService', JobService],
    ['TeamService', TeamService],
    ['IngestService', IngestService],
    ['PolicyStore', PolicyStore],
    ['PolicyEngine', PolicyEngine],
    ['SigningKeyService', SigningKeyService],
    ['EgressReviewService', EgressReviewService],
    ['EgressReceiptsService', EgressReceiptsService],
    ['AuditExport', AuditExport],
    ['AuditLog', AuditLog],
    ['Checkpointer', Checkpointer],
  ])('should not let the sandbox app resolve %s', (_name, token) => {
    expect(() => {
      f.gateway.sandbox.get(token as never, { strict: false });
    }).toThrow();
    expect(f.gateway.control.get(token as never, { strict: false })).toBeDefined();
  });

  it('gives the sandbox app the data plane and egress, and the control app neither', () => {
    for (const token of [DataPlaneService, EgressService]) {
      expect(f.gateway.sandbox.get(token, { strict: false })).toBeDefined();
      expect(() => {
        f.gateway.control.get(token, { strict: false });
      }).toThrow();
    }
  });
});

describe('one container for both listeners', () => {
  let f: Fixture;
  beforeAll(async () => {
    f = await startFixture({ db: 'pglite' });
  });
  afterAll(async () => {
    await f?.stop();
  });

  it('hands both listeners the same instances as the gateway container holds', () => {
    const sameEverywhere = <T>(token: new (...args: never[]) => T) => {
      const shared = f.gateway.get(token);
      expect(f.gateway.sandbox.get(token, { strict: false })).toBe(shared);
      expect(f.gateway.control.get(token, { strict: false })).toBe(shared);
    };
    sameEverywhere(TokenService);
    sameEverywhere(Clock);
    sameEverywhere(HealthService);
    expect(f.gateway.sandbox.get(EgressService, { strict: false })).toBe(f.gateway.get(EgressService));
    expect(f.gateway.control.get(AuditLog, { strict: false })).toBe(f.gateway.get(AuditLog));
  });
});
