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
