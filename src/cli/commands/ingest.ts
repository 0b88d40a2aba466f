import { type Command } from 'commander';
import { type IngestRun, type IngestRunList, type NewIngest } from '../api-types';
import { parsePositiveInt } from '../arg-parsers';
import { CliError, ExitCode } from '../cli-error';
import { seg } from '../client';
import { type CliIo, type CommandContext, examples, handler } from '../context';
import { bytes, count, time } from '../output';
import { elapsed, ProgressLine, sleep } from '../progress';

const POLL_INTERVAL_MS = 500;
const BAR = 28;

interface IngestOptions {
  target: string;
  csvColumns?: string;
  csvPseudonymize?: string;
  domain?: string;
  limit?: number;
  wait: boolean;
}

const list = (v: string | undefined) =>
  v === undefined
    ? undefined
    : v
        .split(',')
        .map((c) => c.trim())
        .filter((c) => c !== '');

export function registerIngestCommands(program: Command, io: CliIo): void {
  program
    .command('ingest')
    .description('bring raw data into a dataset, de-identified on the way (DICOM, MetaImage, label CSV); resumes when run again')
    .argument('<dataset>', 'dataset id (registered with `cage dataset add`)')
    .argument('<source>', "a directory under the gateway's CAGE_INGEST_ROOT, or s3://bucket/prefix on the raw-data store")
    .requiredOption('--target <prefix>', 'dataset-relative prefix the cleansed files go under, e.g. train/')
    .option('--csv-columns <a,b,…>', 'label CSV columns that survive (all others are dropped; without it CSVs are refused)')
    .option('--csv-pseudonymize <a,…>', 'of those, the columns holding series or patient identifiers')
    .option('--domain <slug>', 'pseudonym domain: datasets in one domain share pseudonyms (default: default)')
    .option('--limit <n>', 'cleanse at most n files in this run (try a sample first)', parsePositiveInt)
    .option('--no-wait', 'start the run and return at once')
    .addHelpText(
      'after',
      `${examples(
        'cage ingest chest-ct export-2026-11/train --target train/ --csv-columns seriesuid,coordX,coordY,coordZ,diameter_mm --csv-pseudonymize seriesuid',
        'cage ingest chest-ct s3://raw-exports/2026-11/ --target train/ --limit 20',
      )}\nWhile waiting, a TTY shows a progress bar. Exits 1 when the run fails, 0 otherwise (refused files are listed, not fatal).\n`,
    )
    .action(handler(io, (ctx, dataset: string, source: string, opts: IngestOptions) => ingest(ctx, dataset, source, opts)));

  program
    .command('ingest-runs')
    .description("a dataset's ingest runs, newest first")
    .argument('<dataset>', 'dataset id')
    .action(
      handler(io, async (ctx, dataset: string) => {
        const { runs } = await ctx
          .api()
          .get<IngestRunList>(`/v1/datasets/${seg(dataset)}/ingests`, { notFound: `no such dataset "${dataset}"` });
        if (ctx.json) return ctx.out.data({ runs });
        ctx.out.table(
          ['run', 'state', 'source', 'target', 'written', 'skipped', 'refused', 'bytes', 'started', 'by'],
          runs.map((r) => [
            r.id,
            r.state,
            r.source,
            r.target,
            count(r.filesWritten),
            count(r.filesSkipped),
            count(r.filesRefused),
            bytes(r.bytesWritten),
            time(r.startedAt),
            r.startedBy,
          ]),
          'no ingest runs',
        );
      }),
    );

  program
    .command('ingest-cancel')
    .description('stop an ingest run after the file in hand (run the same ingest again to resume)')
    .argument('<run>', 'run id (ing-…)')
    .action(
      handler(io, async (ctx, run: string) => {
        const r = await ctx.api().post<IngestRun>(`/v1/ingests/${seg(run)}/cancel`, undefined, { notFound: `no such ingest run "${run}"` });
        if (ctx.json) return ctx.out.data(r);
        ctx.out.line(`cancelling ${run}: it stops after the file in hand`);
      }),
    );
}

function bar(run: IngestRun): string {
  const done = run.filesTotal === 0 ? 0 : Math.min(BAR, Math.round((run.filesDone / run.filesTotal) * BAR));
  return `[${'#'.repeat(done)}${'-'.repeat(BAR - done)}] ${count(run.filesDone)}/${count(run.filesTotal)} files  ${bytes(run.bytesWritten)}`;
}

async function ingest(ctx: CommandContext, dataset: string, source: string, opts: IngestOptions): Promise<void> {
  const api = ctx.api();
  const body: NewIngest = {
    source,
    target: opts.target,
    ...(opts.csvColumns === undefined ? {} : { csvColumns: list(opts.csvColumns) }),
    ...(opts.csvPseudonymize === undefined ? {} : { csvPseudonymize: list(opts.csvPseudonymize) }),
    ...(opts.domain === undefined ? {} : { domain: opts.domain }),
    ...(opts.limit === undefined ? {} : { limit: opts.limit }),
  };
  let run = await api.post<IngestRun>(`/v1/datasets/${seg(dataset)}/ingest`, body, { notFound: `no such dataset "${dataset}"` });
  if (!opts.wait) {
    if (ctx.json) return ctx.out.data(run);
    ctx.out.line(`ingesting into ${dataset} (run ${run.id}); follow it with \`cage ingest-runs ${dataset}\``);
    return;
  }
  const progress = new ProgressLine(ctx.io.stderr);
  const started = Date.now();
  try {
    while (run.state === 'running') {
      progress.update(`${bar(run)}  (${elapsed(Date.now() - started)})`);
      await sleep(ctx.io.pollIntervalMs ?? POLL_INTERVAL_MS);
      run = await api.get<IngestRun>(`/v1/ingests/${seg(run.id)}`);
    }
  } finally {
    progress.done();
  }
  if (ctx.json) ctx.out.data(run);
  else report(ctx, dataset, run, Date.now() - started);
  if (run.state === 'failed')
    throw new CliError(ExitCode.Failed, `ingest into ${dataset} failed: ${run.error ?? 'no reason given'}`, [
      'run it again to resume: what was done and verified is skipped',
    ]);
}

function report(ctx: CommandContext, dataset: string, run: IngestRun, ms: number): void {
  const s = run.summary;
  const verb = run.state === 'done' ? 'ingested' : `ingest ${run.state}:`;
  ctx.out.line(
    `${verb} ${dataset}: ${count(run.filesWritten)} written, ${count(run.filesSkipped)} skipped, ${count(run.filesRefused)} refused, ${bytes(run.bytesWritten)} in ${elapsed(ms)}` +
      (s === null
        ? ''
        : `${s.withdrawn > 0 ? `, ${count(s.withdrawn)} withdrawn` : ''}; manifest ${count(s.manifestEntries)} objects (sha256 ${s.manifestSha256?.slice(0, 12) ?? '-'}…)`),
  );
  if (s === null) return;
  if (s.refused.length > 0)
    ctx.out.table(
      ['refused', 'why'],
      s.refused.map((r) => [r.path, r.reason]),
      '',
    );
  const stripped = Object.entries(s.stripped).sort(([a], [b]) => (a < b ? -1 : 1));
  if (stripped.length > 0)
    ctx.out.table(
      ['stripped', 'count'],
      stripped.map(([k, n]) => [k, count(n)]),
      '',
    );
  if (run.state === 'partial' || run.state === 'cancelled')
    ctx.out.line('run the same command again to go on: what is done and verified is skipped');
}
