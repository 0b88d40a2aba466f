import { cpSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

/** Figure 7's shape: rows per predictions file, warm-up and measured submissions. */
export const ROWS = 10_000;
export const WARMUP = 3;
export const SAMPLES = 30;

/** The limits raised in the gateway's copy of ./policies. */
export const RAISED = { maxCandidatesPerScan: 5000, dailyPredictions: 100_000, dailyBits: 1e12 };

/** The source ./policies next to the build (dist/ or .bench-dist/ at the repository root). */
const SOURCE_POLICY_DIR = join(__dirname, '..', '..', 'policies');

/**
 * Copies ./policies into `dir` and raises the limits a 10,000-row predictions file runs into.
 * Returns a sentence for the table notes naming every change (old → new).
 */
export function preparePolicyDir(dir: string): string {
  cpSync(SOURCE_POLICY_DIR, dir, { recursive: true });
  const predictionsFile = join(dir, 'egress', 'predictions.json');
  const budgetFile = join(dir, 'budget.json');
  const predictions = JSON.parse(readFileSync(predictionsFile, 'utf8')) as { maxCandidatesPerScan: number };
  const budget = JSON.parse(readFileSync(budgetFile, 'utf8')) as { dailyBits: number; dailySubmissions: Record<string, number> };
  const before = { perScan: predictions.maxCandidatesPerScan, bits: budget.dailyBits, submissions: budget.dailySubmissions.predictions };
  predictions.maxCandidatesPerScan = RAISED.maxCandidatesPerScan;
  budget.dailyBits = RAISED.dailyBits;
  budget.dailySubmissions.predictions = RAISED.dailyPredictions;
  writeFileSync(predictionsFile, `${JSON.stringify(predictions, null, 2)}\n`);
  writeFileSync(budgetFile, `${JSON.stringify(budget, null, 2)}\n`);
  const n = (v: number | undefined) => (v === undefined ? '(unset)' : v.toLocaleString('en-US'));
  return (
    `gateway policies: a copy of ./policies with egress/predictions.json maxCandidatesPerScan ${n(before.perScan)} → ${n(RAISED.maxCandidatesPerScan)} ` +
    `and budget.json dailySubmissions.predictions ${n(before.submissions)} → ${n(RAISED.dailyPredictions)}, dailyBits ${n(before.bits)} → 10^12 ` +
    `(figure 7 sends ${ROWS.toLocaleString('en-US')} rows over the demo's test scans, ${WARMUP + SAMPLES} times); the Cedar files are unchanged`
  );
}
