import { AuditRepository } from '../src/audit/audit.repository';
import { OpenDownloads } from '../src/data-plane/open-downloads';
import { JobService } from '../src/jobs/job.service';
import { DATASET, type Fixture, startFixture } from './support/fixture';
import { bearer, objectPath, rawRequest } from './support/http';

/*
^ * A range the store widened (s3rver serves `bytes=0-0` whole) is served through
 * trimToRange's Transform. Once the client has its bytes, that download must leave OpenDownloads:
 * a finished download must not stay "open", be swept forever, and be logged as cut later.
 */
describe('a trimmed range, once served, is no longer an open download', () => {
  let f: Fixture;
  beforeAll(async () => {
    f = await startFixture({ db: 'pglite' });
  });
  afterAll(async () => {
    await f?.stop();
  });

  it('leaves OpenDownloads when the client has received every byte', async () => {
    const downloads = f.gateway.get(OpenDownloads);
    const before = downloads.size;
    for (let i = 0; i < 20; i++) {
      const r = await rawRequest(f.gateway.sandboxUrl, 'GET', objectPath(DATASET, 'train/scan-1.raw'), {
        ...bearer(f.alpha.token),
        range: 'bytes=0-0',
      });
      expect(r.status).toBe(206);
      expect(r.body.length).toBe(1);
      expect(r.aborted).toBe(false);
    }
    await new Promise((r) => setTimeout(r, 1000));
    expect(downloads.size - before).toBe(0);
  });

  it('does not log a completed download as cut when the job is revoked afterwards', async () => {
    await f.gateway.get(JobService).revoke(f.alpha.jobId, 'reviewer', { requestId: 'review', listener: 'internal' });
    await new Promise((r) => setTimeout(r, 1500));
    const cuts = await f.gateway.get(AuditRepository).find({ action: 'read.cut', limit: 100 });
    expect(cuts.map((c) => c.leaf.detail)).toEqual([]);
  });
});
