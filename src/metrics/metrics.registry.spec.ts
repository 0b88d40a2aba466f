import { PassThrough } from 'node:stream';
import { CageMetrics, labelName } from './metrics.registry';

const value = async (
  m: { get(): Promise<{ values: { value: number; labels: Record<string, string | number> }[] }> },
  labels: Record<string, string>,
) => (await m.get()).values.find((v) => Object.entries(labels).every(([k, x]) => v.labels[k] === x))?.value;

describe('CageMetrics', () => {
  it('keeps each gateway’s figures apart (one registry per instance, not the global one)', async () => {
    const a = new CageMetrics();
    const b = new CageMetrics();
    a.storeError('get');
    expect(await value(a.storeErrors, { operation: 'get' })).toBe(1);
    expect(await value(b.storeErrors, { operation: 'get' })).toBe(0);
    expect(await a.scrape()).toContain('cage_store_errors_total{operation="get"} 1');
  });

  it('counts a download as open until its body ends, and one that is cut off too', async () => {
    const m = new CageMetrics();
    const finished = new PassThrough();
    const cut = new PassThrough();
    m.streamOpened('sandbox', finished);
    m.streamOpened('sandbox', cut);
    expect(await value(m.openStreams, { listener: 'sandbox' })).toBe(2);
    finished.resume();
    finished.end('bytes');
    await new Promise((r) => finished.on('end', r));
    await new Promise((r) => setImmediate(r));
    expect(await value(m.openStreams, { listener: 'sandbox' })).toBe(1);
    cut.destroy();
    await new Promise((r) => setImmediate(r));
    expect(await value(m.openStreams, { listener: 'sandbox' })).toBe(0);
  });

  it('should not let anything but a code-defined name become a label value', async () => {
    expect(labelName('egress.release')).toBe('egress.release');
    expect(labelName('train/scan-1.raw')).toBe('other');
    expect(labelName('(unknown)')).toBe('other');
    expect(labelName('A'.repeat(70))).toBe('other');
    const m = new CageMetrics();
    m.observeRequest('sandbox', undefined, 'PROPFIND', 404, 0.01);
    m.decision('read/../../etc', 'allow');
    const text = await m.scrape();
    expect(text).toContain('cage_http_requests_total{listener="sandbox",route="(unmatched)",method="OTHER",status="404"} 1');
    expect(text).toContain('cage_policy_decisions_total{action="other",decision="allow"} 1');
  });
});
