import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { UsageError } from './cli-error';

/**
 * The files a policy set is made of (docs/control-api.md): the schema, the Cedar policies, the
 * egress kinds, the budget and the policy tests. Anything else in the directory (READMEs,
 * editor backups) is not part of the set and is not sent.
 */
function isPolicyFile(relative: string): boolean {
  if (relative === 'schema.cedarschema' || relative === 'budget.json') return true;
  if (/^[^/]+\.cedar$/.test(relative)) return true;
  return /^(egress|tests)\/[^/]+\.json$/.test(relative);
}

function listFiles(dir: string, sub: string): string[] {
  let names: string[];
  try {
    names = readdirSync(join(dir, sub));
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT' && sub !== '') return [];
    throw err;
  }
  return names.map((name) => (sub === '' ? name : `${sub}/${name}`));
}

/** Reads a policy directory into `{files}` keyed by path relative to it, with `/` separators. */
export function readPolicyDir(dir: string, cwd: string): Record<string, string> {
  const root = resolve(cwd, dir);
  let isDir: boolean;
  try {
    isDir = statSync(root).isDirectory();
  } catch {
    throw new UsageError(`no such policy directory: ${dir}`);
  }
  if (!isDir) throw new UsageError(`not a directory: ${dir}`);

  const files: Record<string, string> = {};
  try {
    const candidates = [...listFiles(root, ''), ...listFiles(root, 'egress'), ...listFiles(root, 'tests')].filter(isPolicyFile).sort();
    for (const relative of candidates) {
      if (statSync(join(root, relative)).isFile()) files[relative] = readFileSync(join(root, relative), 'utf8');
    }
  } catch (err) {
    throw new UsageError(`cannot read the policy directory ${dir}: ${(err as Error).message}`);
  }
  if (Object.keys(files).length === 0) {
    throw new UsageError(`no policy files in ${dir} (expected schema.cedarschema, *.cedar, egress/*.json, budget.json, tests/*.json)`);
  }
  return files;
}
