import { mkdirSync, readFileSync, readdirSync, writeFileSync, existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { type Command } from 'commander';
import { type ExportBundle, verifyExport } from '../../audit/verify/offline-verifier';
import { type AuditPage, type CheckpointList, type SigningKeyList } from '../api-types';
import { CliError, ExitCode, UsageError } from '../cli-error';
import { ApiError } from '../client';
import { type CliIo, examples, handler } from '../context';

/**
 * A key file: the text of one verifier key, several (one a line), or the JSON that
 * `GET /v1/audit/checkpoint/keys` serves (`keys.json` in an export): every key the gateway has had.
 */
export function readVerifierKeys(file: string): string[] {
  const text = readFileSync(file, 'utf8').trim();
  if (text.startsWith('{')) {
    let parsed: unknown;
    try {
      parsed = JSON.parse(text);
    } catch {
      throw new UsageError(`${file} is not valid JSON`);
    }
    const keys = (parsed as { keys?: unknown }).keys;
    if (!Array.isArray(keys) || !keys.every((k) => typeof (k as { verifierKey?: unknown }).verifierKey === 'string')) {
      throw new UsageError(`${file} is not a key list ({"keys": [{"verifierKey": …}, …]})`);
    }
    return keys.map((k) => (k as { verifierKey: string }).verifierKey);
  }
  return text
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l !== '' && !l.startsWith('#'));
}

function count(v: string): number {
  if (!/^\d+$/.test(v)) throw new UsageError(`not a leaf count: ${v}`);
  return Number(v);
}

/** `cage audit export|verify|tail`: the compliance officer's side of the log. */
export function registerAuditCommands(program: Command, io: CliIo): void {
  const audit = program.command('audit').description('export, verify offline, and follow the tamper-evident audit log');

  audit
    .command('export')
    .description('export the log [0, to) with everything needed to verify it offline')
    .requiredOption('--out <dir>', 'directory to write leaves.jsonl, leaf-hashes.txt, checkpoints/*.checkpoint, key.txt and keys.json into')
    .option('--to <size>', 'tree size to export (default: the latest checkpoint)', count)
    .addHelpText(
      'after',
      examples('cage audit export --out ./audit-2026-11-26', 'cage audit verify ./audit-2026-11-26 --key pinned-key.txt'),
    )
    .action(
      handler(io, async (ctx, opts: { out: string; to?: number }) => {
        const api = ctx.api();
        // Every checkpoint, also those past the export's end: a log cut short below a signed size shows.
        // Listed before the leaves are taken (up to the latest checkpoint then), so that a checkpoint the
        // live log signs in between is not mistaken for a truncation.
        const cps = await api.get<CheckpointList>('/v1/audit/checkpoints');
        // Up to the newest checkpoint listed, not the server's newest when the leaves are asked for:
        // a checkpoint signed in between would leave leaves past every checkpoint the export holds
        // (which `audit verify` rightly refuses as unverified).
        const newest = cps.checkpoints.reduce((m, c) => Math.max(m, c.size), 0);
        const to = opts.to ?? (cps.checkpoints.length > 0 ? newest : undefined);
        const exportTo = (size: number | undefined) =>
          api.text('/v1/audit/export', { query: { format: 'jsonl', to: size === undefined ? undefined : String(size) } });
        let leaves: string;
        try {
          leaves = await exportTo(to);
        } catch (err) {
          // A log shorter than a checkpoint it signed (truncated): take what it has, so that
          // `audit verify` can say so, rather than export nothing.
          if (!(err instanceof ApiError) || opts.to !== undefined || err.status >= 500) throw err;
          leaves = await exportTo(undefined);
        }
        const size = leaves === '' ? 0 : leaves.split('\n').length - 1;
        const hashes = await api.text('/v1/audit/leaf-hashes', { query: { to: String(size) } });
        const key = await api.text('/v1/audit/checkpoint/key');
        const keys = await api.get<SigningKeyList>('/v1/audit/checkpoint/keys');
        const dir = resolve(ctx.cwd(), opts.out);
        mkdirSync(join(dir, 'checkpoints'), { recursive: true });
        writeFileSync(join(dir, 'leaves.jsonl'), leaves);
        writeFileSync(join(dir, 'leaf-hashes.txt'), hashes);
        for (const c of cps.checkpoints) writeFileSync(join(dir, 'checkpoints', `${String(c.size).padStart(16, '0')}.checkpoint`), c.note);
        writeFileSync(join(dir, 'key.txt'), key);
        writeFileSync(join(dir, 'keys.json'), `${JSON.stringify(keys, null, 2)}\n`);
        if (ctx.json) return ctx.out.data({ dir, leaves: size, checkpoints: cps.checkpoints.length });
        ctx.out.line(`exported ${size} leaves and ${cps.checkpoints.length} checkpoints to ${dir}`);
      }),
    );

  audit
    .command('verify')
    .description('verify an export offline: leaf hashes, signed checkpoints, truncation, consistency with an earlier checkpoint')
    .argument('<dir>', 'a directory written by `cage audit export`')
    .option(
      '--key <file>',
      "the checkpoint verifier key(s) you pinned: one key, one a line, or a keys.json (default: the export's keys.json or key.txt — which only proves self-consistency)",
    )
    .option('--earlier <file>', 'a checkpoint you kept from before: the log must be consistent with it')
    .option('--accept-unverified', 'accept leaves past the newest signed checkpoint (reported as unverified) instead of failing')
    .addHelpText(
      'after',
      `Exits 0 when everything verifies, 1 naming the first bad index and why. Leaves past the newest\nsigned checkpoint are not verified by anything: they fail the check unless --accept-unverified.\n${examples('cage audit verify ./audit-2026-11-26 --key pinned-key.txt --earlier last-month.checkpoint')}`,
    )
    .action(
      handler(io, async (ctx, dirArg: string, opts: { key?: string; earlier?: string; acceptUnverified?: boolean }) => {
        const dir = resolve(ctx.cwd(), dirArg);
        if (!existsSync(join(dir, 'leaves.jsonl'))) throw new UsageError(`${dir} holds no leaves.jsonl: write one with cage audit export`);
        const exported = existsSync(join(dir, 'keys.json')) ? 'keys.json' : 'key.txt';
        const keyFile = opts.key === undefined ? join(dir, exported) : resolve(ctx.cwd(), opts.key);
        if (opts.key === undefined)
          ctx.out.note(`warning: verifying with the export's own ${exported}; pin the key with --key to prove who signed it`);
        const text = await readFile(join(dir, 'leaves.jsonl'));
        const lines: Buffer[] = [];
        for (let at = 0; at < text.length;) {
          const nl = text.indexOf(0x0a, at);
          if (nl < 0) throw new CliError(ExitCode.Failed, 'leaves.jsonl does not end with a newline: the export is cut short');
          lines.push(text.subarray(at, nl));
          at = nl + 1;
        }
        const bundle: ExportBundle = { lines, checkpoints: [] };
        const hashFile = join(dir, 'leaf-hashes.txt');
        if (existsSync(hashFile)) {
          bundle.leafHashes = new Map(
            readFileSync(hashFile, 'utf8')
              .split('\n')
              .filter((l) => l !== '')
              .map((l) => {
                const [i, h] = l.split(' ');
                return [Number(i), h ?? ''] as [number, string];
              }),
          );
        }
        const cpDir = join(dir, 'checkpoints');
        if (existsSync(cpDir)) for (const f of readdirSync(cpDir).sort()) bundle.checkpoints.push(readFileSync(join(cpDir, f), 'utf8'));
        const verdict = verifyExport(
          bundle,
          readVerifierKeys(keyFile),
          opts.earlier === undefined ? undefined : readFileSync(resolve(ctx.cwd(), opts.earlier), 'utf8'),
          { acceptUnverified: opts.acceptUnverified === true },
        );
        if (ctx.json) ctx.out.data(verdict);
        if (!verdict.ok)
          throw new CliError(
            ExitCode.Failed,
            `verification failed${verdict.index === null ? '' : ` at index ${verdict.index}`}: ${verdict.reason}`,
          );
        if (!ctx.json)
          ctx.out.line(
            `ok: ${verdict.size} leaves, root ${verdict.root}, ${verdict.checkpoints} signed checkpoints verified${verdict.keys > 1 ? ` (${verdict.keys} signing keys)` : ''}; ${verdict.covered} leaves covered by a verified checkpoint`,
          );
        if (!ctx.json && verdict.unverified > 0)
          ctx.out.line(`UNVERIFIED: ${verdict.unverified} leaves past the newest signed checkpoint (accepted with --accept-unverified)`);
      }),
    );

  audit
    .command('tail')
    .description('print the newest leaves; --follow keeps printing as they are appended')
    .option('-n, --lines <n>', 'how many recent leaves to start with', count, 20)
    .option('--follow', 'keep polling for new leaves (every second)')
    .option('--team <team>', 'only this team')
    .option('--action <action>', 'only this action (read, list, egress.release, policy.activate, …)')
    .option('--decision <decision>', 'allow, deny, error or info')
    .action(
      handler(io, async (ctx, opts: { lines: number; follow?: boolean; team?: string; action?: string; decision?: string }) => {
        const api = ctx.api();
        const filters = { team: opts.team, action: opts.action, decision: opts.decision };
        const all: AuditPage['leaves'] = [];
        let cursor: string | null = null;
        do {
          const page: AuditPage = await api.get<AuditPage>('/v1/audit', {
            query: { ...filters, limit: '1000', cursor: cursor ?? undefined },
          });
          all.push(...page.leaves);
          if (all.length > opts.lines) all.splice(0, all.length - opts.lines);
          cursor = page.nextCursor;
        } while (cursor !== null);
        const print = (leaves: AuditPage['leaves']) => {
          for (const l of leaves) {
            if (ctx.json) ctx.out.line(JSON.stringify(l));
            else
              ctx.out.line(
                `${l.index}\t${l.leaf.time}\t${l.leaf.principal}\t${l.leaf.team ?? '-'}\t${l.leaf.action}\t${l.leaf.decision}\t${l.leaf.status ?? '-'}\t${l.leaf.bytes}`,
              );
          }
        };
        print(all);
        let last = all.at(-1)?.index;
        while (opts.follow === true) {
          await new Promise((r) => setTimeout(r, ctx.io.pollIntervalMs ?? 1000));
          const page = await api.get<AuditPage>('/v1/audit', {
            query: { ...filters, limit: '1000', cursor: last === undefined ? undefined : String(last) },
          });
          print(page.leaves);
          last = page.leaves.at(-1)?.index ?? last;
        }
      }),
    );
}
