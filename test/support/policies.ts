import { cpSync, mkdtempSync, writeFileSync } from 'node:fs';
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
