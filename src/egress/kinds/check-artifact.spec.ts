import { join } from 'node:path';
import type { WorldBoundingBox } from '../../datasets/metaimage-header';
import { checkArtifact } from './check-artifact';
import { EgressRejection } from './egress-rejection';
import { loadEgressKinds } from '../../policy/egress-kinds/egress-kinds';

const KINDS = loadEgressKinds(join(__dirname, '..', '..', '..', 'policies', 'egress'));
const SCANS: ReadonlyMap<string, WorldBoundingBox> = new Map([['scan-1', { min: [-10, -10, -10], max: [10, 10, 10] }]]);

function kind(name: string) {
  const k = KINDS.get(name);
  if (k === undefined) throw new Error(`no ${name} kind shipped`);
  return k;
}

describe('checkArtifact with the shipped kinds', () => {
  it('runs the predictions checker for predictions', () => {
    const out = checkArtifact(
      Buffer.from('seriesuid,coordX,coordY,coordZ,probability\r\nscan-1,1.26,-2,3,0.91234\r\n'),
      kind('predictions'),
      { scans: SCANS },
    );
    expect(out.canonical.toString()).toBe('seriesuid,coordX,coordY,coordZ,probability\nscan-1,1.5,-2.0,3.0,0.912\n');
  });

  it('runs the metrics checker for metrics', () => {
    const out = checkArtifact(
      Buffer.from('{"n": 120, "metrics": {"froc": 0.8123, "auc": 0.91, "loss": [0.93, 0.71, 0.64]}}'),
      kind('metrics'),
      { scans: SCANS },
    );
    expect(out.canonical.toString()).toBe('{"metrics":{"auc":0.91,"froc":0.812,"loss":[0.93,0.71,0.64]},"n":120}');
  });

  it('passes a model through untouched at 8 bits a byte', () => {
    const bytes = Buffer.from([1, 2, 3]);
    const out = checkArtifact(bytes, kind('model'), { scans: SCANS });
    expect(out.canonical.equals(bytes)).toBe(true);
    expect(out.bits).toBe(24);
  });

  it('does not let one format pass as another', () => {
    const metrics = Buffer.from('{"n": 120, "metrics": {"auc": 0.91}}');
    expect(() => checkArtifact(metrics, kind('predictions'), { scans: SCANS })).toThrow(EgressRejection);
    const predictions = Buffer.from('seriesuid,coordX,coordY,coordZ,probability\nscan-1,1,2,3,0.5\n');
    expect(() => checkArtifact(predictions, kind('metrics'), { scans: SCANS })).toThrow(EgressRejection);
  });
});
