import { AuditExport } from '../src/audit/audit-export.service';
import { AuditLog } from '../src/audit/audit-log.service';
import { Checkpointer } from '../src/audit/checkpointer.service';
import { DatasetAdminService } from '../src/control/dataset-admin.service';
import { GrantService } from '../src/control/grant.service';
import { JobService } from '../src/control/job.service';
import { SigningKeyService } from '../src/control/signing-key.service';
import { TeamService } from '../src/control/team.service';
import { DataPlaneService } from '../src/data-plane/data-plane.service';
import { EgressReviewService } from '../src/egress/egress-review.service';
import { EgressReceiptsService } from '../src/egress/egress-receipts.service';
import { EgressService } from '../src/egress/egress.service';
import { IngestService } from '../src/ingest/ingest.service';
import { PolicyStore } from '../src/policy/policy-store';
import { PolicyEngine } from '../src/policy/policy.types';
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
