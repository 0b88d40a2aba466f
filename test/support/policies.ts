import { cpSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { POLICY_DIR } from './fixture';

/** A copy of the shipped policy directory with some files replaced or added. */
export function policyDirWith(files: Record<string, string>): string {
  const dir = mkdtempSync(join(tmpdir(), 'cage-policies-'));
  cpSync(POLICY_DIR, dir, { recursive: true });
  for (const [name, text] of Object.entries(files)) writeFileSync(join(dir, name), text);
  return dir;
}

/** The shipped egress expectations without the named ones (for a set that deliberately allows more). */
export function egressExpectationsWithout(...names: string[]): string {
  const file = JSON.parse(readFileSync(join(POLICY_DIR, 'tests', 'egress.json'), 'utf8')) as { expectations: { name: string }[] };
  return JSON.stringify({ expectations: file.expectations.filter((e) => !names.includes(e.name)) }, null, 2);
}

/**
 * The shipped policies with room for large predictions files (32 MiB, two million rows, a
 * budget no test exhausts): the shipped caps (16 MiB, 100,000 rows) are the organizers' choice,
 * not the S3 protocol's, and a multipart upload's parts are 5 MiB at least.
 */
export function largePredictionsPolicyDir(): string {
  const read = (path: string) => JSON.parse(readFileSync(join(POLICY_DIR, path), 'utf8')) as Record<string, unknown>;
  return policyDirWith({
    'egress/predictions.json': JSON.stringify({
      ...read('egress/predictions.json'),
      maxBytes: 32 * 1024 * 1024,
      maxRows: 2_000_000,
      maxCandidatesPerScan: 2_000_000,
    }),
    'budget.json': JSON.stringify({ ...read('budget.json'), dailyBits: 1e12 }),
  });
}
