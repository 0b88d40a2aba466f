import { readFileSync, writeFileSync } from 'node:fs';
import { availableParallelism, cpus, loadavg, totalmem } from 'node:os';
import { clockTicksPerSecond } from './processes';
import { GiB } from './stats';

/** A row's identity: what it measures and the target it is held to. */
export interface RowId {
  id: string;
  figure: string;
  target: string;
}

/** One row of the result table, and its raw numbers for the JSON output. */
export interface FigureResult {
  id: string;
  figure: string;
  measured: string;
  target: string;
  /** The direct-to-store baseline, or the gateway/direct ratio, where one applies. */
  direct: string;
  /** null: shown for context, no target. */
  pass: boolean | null;
  skipped?: string;
  values: Record<string, number | string | null>;
}

export function skipped(row: RowId, why: string): FigureResult {
  return { ...row, measured: `skipped: ${why}`, direct: '', pass: null, skipped: why, values: {} };
}

export interface Machine {
  cpu: string;
  cores: number;
  ramGiB: number;
  node: string;
  clkTck: number;
  /** 1-minute load average when the run started: other work on the machine skews every figure. */
  loadAvg1m: number;
}

export function machine(): Machine {
  let cpu = cpus()[0]?.model ?? 'unknown';
  try {
    const m = /^model name\s*:\s*(.+)$/m.exec(readFileSync('/proc/cpuinfo', 'utf8'));
    if (m?.[1] !== undefined) cpu = m[1].trim();
  } catch {
    // not Linux: os.cpus() it is
  }
  return {
    cpu,
    cores: availableParallelism(),
    ramGiB: Math.round((totalmem() / GiB) * 10) / 10,
    node: process.version,
    clkTck: clockTicksPerSecond(),
    loadAvg1m: Math.round(loadavg()[0] * 100) / 100,
  };
}

export function machineLine(m: Machine): string {
  return `machine: ${m.cpu}, ${m.cores} cores, ${m.ramGiB} GiB RAM, node ${m.node}, ${process.platform}/${process.arch}; load average ${m.loadAvg1m} at start`;
}

export function table(rows: FigureResult[]): string {
  const head = ['figure', 'measured', 'target', 'direct / ratio', 'pass?'];
  const cells = rows.map((r) => [
    r.figure,
    r.measured,
    r.target,
    r.direct,
    r.skipped !== undefined ? 'skipped' : r.pass === null ? '(info)' : r.pass ? 'PASS' : 'FAIL',
  ]);
  const widths = head.map((h, i) => Math.max(h.length, ...cells.map((c) => (c[i] ?? '').length)));
  const line = (c: string[]) => `| ${c.map((v, i) => v.padEnd(widths[i] ?? 0)).join(' | ')} |`;
  const rule = `|${widths.map((w) => '-'.repeat(w + 2)).join('|')}|`;
  return [line(head), rule, ...cells.map(line)].join('\n');
}

export function writeJson(file: string, m: Machine, notes: string[], rows: FigureResult[]): void {
  const out = { generatedAt: new Date().toISOString(), machine: m, notes, figures: rows };
  writeFileSync(file, `${JSON.stringify(out, null, 2)}\n`);
}

/** A figure that could not be measured because something broke: a failure, never a number. */
export function failed(row: RowId, err: unknown): FigureResult {
  const why = err instanceof Error ? (err.message.split('\n')[0] ?? err.name) : String(err);
  return {
    ...row,
    measured: `error: ${why}`,
    direct: '',
    pass: false,
    values: { error: err instanceof Error ? err.message : String(err) },
  };
}
