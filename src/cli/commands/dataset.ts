import { type Command } from 'commander';
import { type Dataset, type DatasetList, type IndexRun, type ManifestReport, type NewDataset } from '../api-types';
import { parseSplit, repeatable, type SplitSpec } from '../arg-parsers';
import { CliError, ExitCode } from '../cli-error';
import { seg } from '../client';
import { type CliIo, type CommandContext, examples, handler } from '../context';
import { bytes, count, time } from '../output';
import { elapsed, ProgressLine, sleep } from '../progress';

const POLL_INTERVAL_MS = 500;

interface AddOptions {
  bucket: string;
  prefix: string;
  title?: string;
  split: SplitSpec[];
}

export function registerDatasetCommands(program: Command, io: CliIo): void {
  const dataset = program.command('dataset').description('register datasets and index their objects');

  dataset
    .command('add')
    .description('register a dataset: where it lives in the object store and its named splits')
    .argument('<id>', 'dataset id, e.g. lung-2025')
    .requiredOption('--bucket <bucket>', 'bucket holding the dataset')
    .requiredOption('--prefix <prefix>', "the dataset's key prefix in the bucket ('' or ending in /)")
    .option('--title <title>', 'human-readable title')
    .requiredOption(
      '--split <name:kind:prefix>',
      'a split (repeatable): its name, kind (train|val|test|labels) and key prefix relative to --prefix',
      repeatable(parseSplit),
    )
    .addHelpText(
      'after',
      examples(
        'cage dataset add lung-2025 --bucket imaging --prefix lung-2025/ --title "Lung nodules 2025" \\\n      --split train:train:train/ --split test:test:test/ --split labels:labels:labels/',
      ),
    )
    .action(
      handler(io, async (ctx, id: string, opts: AddOptions) => {
        const body: NewDataset = {
          id,
          bucket: opts.bucket,
          prefix: opts.prefix,
          ...(opts.title === undefined ? {} : { title: opts.title }),
          splits: opts.split,
        };
        const created = await ctx.api().post<Dataset>('/v1/datasets', body);
        if (ctx.json) return ctx.out.data(created);
        ctx.out.line(
          `added dataset ${created.id} (${created.splits.map((s) => `${s.name}:${s.kind}`).join(', ')}); index it with: cage dataset index ${created.id}`,
        );
      }),
    );

  dataset
    .command('index')
    .description("index the dataset's objects (series, sizes) and wait until the run is done or failed")
    .argument('<id>', 'dataset id')
    .option('--no-wait', 'start the run and return at once')
    .addHelpText(
      'after',
      `${examples('cage dataset index lung-2025', 'cage dataset index lung-2025 --no-wait --json')}\nWhile waiting, a TTY shows objects, bytes and series seen so far. Exits 1 when the run fails.\n`,
    )
    .action(handler(io, (ctx, id: string, opts: { wait: boolean }) => indexDataset(ctx, id, opts.wait)));

  dataset
    .command('verify')
    .description(
      "compare an ingested dataset's bucket with its manifest; exits 1 if anything was added, changed or removed behind the gateway",
    )
    .argument('<id>', 'dataset id')
    .action(
      handler(io, async (ctx, id: string) => {
        const r = await ctx
          .api()
          .post<ManifestReport>(`/v1/datasets/${seg(id)}/manifest/verify`, undefined, { notFound: `no such dataset "${id}"` });
        const bad = r.unexpected.length + r.changed.length + r.missing.length;
        if (ctx.json) ctx.out.data(r);
        else {
          ctx.out.line(
            `${id}: ${count(r.checked)} objects in the bucket, ${count(r.listed)} in the manifest; ${bad === 0 ? 'they match' : `${count(bad)} discrepancies`}`,
          );
          const rows = [
            ...r.unexpected.map((k) => ['unexpected (never served)', k]),
            ...r.changed.map((k) => ['changed (never served)', k]),
            ...r.missing.map((k) => ['missing', k]),
          ];
          if (rows.length > 0) ctx.out.table(['what', 'key'], rows, '');
        }
        if (bad > 0) throw new CliError(ExitCode.Failed, `${id}: the bucket does not match the manifest (${count(bad)} discrepancies)`);
      }),
    );

  dataset
    .command('list')
    .description('list the registered datasets')
    .action(
      handler(io, async (ctx) => {
        const { datasets } = await ctx.api().get<DatasetList>('/v1/datasets');
        if (ctx.json) return ctx.out.data({ datasets });
        ctx.out.table(
          ['id', 'title', 'location', 'splits', 'objects', 'bytes', 'series', 'indexed'],
          datasets.map((d) => [
            d.id,
            d.title,
            `${d.bucket}/${d.prefix}`,
            d.splits.map((s) => s.name).join(', '),
            count(d.objects),
            bytes(d.bytes),
            count(d.series),
            time(d.indexedAt),
          ]),
          'no datasets',
        );
      }),
    );

  dataset
    .command('show')
    .description('show one dataset and its splits')
    .argument('<id>', 'dataset id')
    .action(
      handler(io, async (ctx, id: string) => {
        const d = await ctx.api().get<Dataset>(`/v1/datasets/${seg(id)}`, { notFound: `no such dataset "${id}"` });
        if (ctx.json) return ctx.out.data(d);
        ctx.out.record([
          ['id', d.id],
          ['title', d.title],
          ['location', `${d.bucket}/${d.prefix}`],
          ['objects', count(d.objects)],
          ['bytes', bytes(d.bytes)],
          ['series', count(d.series)],
          ['indexed', time(d.indexedAt)],
          ['created', `${time(d.createdAt)} by ${d.createdBy}`],
        ]);
        ctx.out.table(
          ['split', 'kind', 'prefix'],
          d.splits.map((s) => [s.name, s.kind, s.prefix]),
          'no splits',
        );
      }),
    );
}

function runSummary(run: IndexRun): string {
  return `${count(run.objectsSeen)} objects, ${bytes(run.bytesSeen)}, ${count(run.seriesIndexed)} series`;
}

/** POST starts the run; then GET the latest run every 500 ms until it is no longer running. */
async function indexDataset(ctx: CommandContext, id: string, wait: boolean): Promise<void> {
  const api = ctx.api();
  const path = `/v1/datasets/${seg(id)}/index`;
  let run = await api.post<IndexRun>(path, undefined, { notFound: `no such dataset "${id}"` });
  if (!wait) {
    if (ctx.json) return ctx.out.data(run);
    ctx.out.line(`indexing ${id} started (run ${run.id}); \`cage dataset show ${id}\` shows the counts once it is done`);
    return;
  }

  const progress = new ProgressLine(ctx.io.stderr);
  const started = Date.now();
  try {
    while (run.state === 'running') {
      progress.update(`indexing ${id}: ${runSummary(run)} (${elapsed(Date.now() - started)})`);
      await sleep(ctx.io.pollIntervalMs ?? POLL_INTERVAL_MS);
      run = await api.get<IndexRun>(path, { notFound: `no such dataset "${id}"` });
    }
  } finally {
    progress.done();
  }

  if (ctx.json) ctx.out.data(run);
  else if (run.state === 'done') ctx.out.line(`indexed ${id}: ${runSummary(run)} in ${elapsed(Date.now() - started)}`);
  if (run.state === 'failed') {
    throw new CliError(ExitCode.Failed, `indexing ${id} failed: ${run.error ?? 'no reason given'}`, [
      `seen before failing: ${runSummary(run)}`,
    ]);
  }
}
