import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { type Command } from 'commander';
import { FROC_FP_RATES, MetricInputError } from '../../leaderboard/metrics/froc';
import { parseCandidatesCsv, parseFindingsCsv, parseSeriesList } from '../../leaderboard/metrics/luna16-csv';
import { luna16Froc } from '../../leaderboard/metrics/metric';
import { CliError, ExitCode, UsageError } from '../cli-error';
import { type CliIo, type CommandContext, examples, handler } from '../context';

/**
 * `cage score`: the leaderboard's metric, offline, for organizers who want to check a score on
 * their own machine. The same code the leaderboard scores with (src/leaderboard/metrics).
 */
export function registerScoreCommand(program: Command, io: CliIo): void {
  program
    .command('score')
    .description("score a predictions file with LUNA16's FROC, offline (the leaderboard's own code)")
    .requiredOption('--annotations <file>', 'the nodules: seriesuid,coordX,coordY,coordZ,diameter_mm')
    .requiredOption('--predictions <file>', 'the candidates: seriesuid,coordX,coordY,coordZ,probability')
    .option('--excluded <file>', 'findings neither counted nor charged (annotations_excluded.csv)')
    .option(
      '--scans <file>',
      'the scans scored, one seriesuid a line or a CSV with a seriesuid column (default: every scan the files name)',
    )
    .addHelpText(
      'after',
      `${examples(
        'cage score --annotations annotations.csv --excluded annotations_excluded.csv --scans seriesuids.csv --predictions results.csv',
        'cage score --annotations test_annotations.csv --predictions predictions.csv --json',
      )}
Prints the sensitivity at 1/8, 1/4, 1/2, 1, 2, 4 and 8 false positives per scan and their mean
(CPM); with --json: {"sensitivities": [7 numbers], "cpm": number}. The false-positive rate is per
scan scored: give --scans when some scans have neither nodules nor predictions, or they go
uncounted. Reads local files only; nothing is sent.
`,
    )
    .action(handler(io, (ctx, opts: ScoreOptions) => Promise.resolve(score(ctx, opts))));
}

function score(ctx: CommandContext, opts: ScoreOptions): void {
  const read = (file: string) => readText(ctx, file);
  const annotations = read(opts.annotations);
  const excluded = opts.excluded === undefined ? undefined : read(opts.excluded);
  const predictions = read(opts.predictions);
  let scans: Set<string>;
  try {
    scans =
      opts.scans !== undefined
        ? parseSeriesList(read(opts.scans))
        : new Set(
            [
              ...parseFindingsCsv(annotations, 'annotations'),
              ...(excluded === undefined ? [] : parseFindingsCsv(excluded, 'excluded')),
              ...parseCandidatesCsv(predictions),
            ].map((r) => r.seriesuid),
          );
    const { score: scored, detail } = luna16Froc.score({ labels: annotations, excluded, predictions }, scans);
    const sensitivities = detail.sensitivities as number[];
    if (ctx.json) return ctx.out.data({ sensitivities, cpm: scored });
    ctx.out.line(
      `FROC on ${String(detail.scans)} scans, ${String(detail.nodules)} nodules: ${String(detail.detected)} detected, ${String(detail.falsePositives)} false positives`,
    );
    ctx.out.table(
      ['FP/scan', 'sensitivity'],
      [...FROC_FP_RATES.map((r, i) => [String(r), sensitivities[i].toFixed(4)]), ['CPM', scored.toFixed(4)]],
      '',
    );
  } catch (err) {
    if (err instanceof MetricInputError) throw new CliError(ExitCode.Failed, err.message);
    throw err;
  }
}

interface ScoreOptions {
  annotations: string;
  predictions: string;
  excluded?: string;
  scans?: string;
}

function readText(ctx: CommandContext, file: string): string {
  try {
    return readFileSync(resolve(ctx.cwd(), file), 'utf8');
  } catch (err) {
    throw new UsageError(`cannot read ${file}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
  }
}
