import { isAbsolute, resolve } from 'node:path';
import { type Command } from 'commander';
import { KeyError } from '../../keys/signing-keys';
import {
  PseudonymKeyConflict,
  pseudonymKeyFingerprint,
  pseudonymKeyPath,
  readPseudonymKey,
  writePseudonymKey,
} from '../../keys/pseudonym-key';
import { parseDuration } from '../arg-parsers';
import { issueTokenLocally } from '../local-token';
import { CliError, ExitCode } from '../cli-error';
import { type CliIo, type CommandContext, examples, handler } from '../context';
import { type RotateSigningKey, type SigningKeyList, type SigningKeyRotation } from '../api-types';
import { time } from '../output';

/** `0` (refuse the retired key's tokens at once) or a duration: 24h, 7d, 3600. */
function parseGrace(text: string): number {
  if (text.trim() === '0') return 0;
  return parseDuration(text, true);
}

/** The pseudonym key file the gateway on this machine reads (same rule as the gateway's). */
function localKeyFile(ctx: CommandContext, flag: string | undefined): string {
  const env = ctx.io.env;
  const chosen = flag ?? (env.CAGE_PSEUDONYM_KEY_FILE === '' ? undefined : env.CAGE_PSEUDONYM_KEY_FILE);
  const dataDir = env.CAGE_DATA_DIR === undefined || env.CAGE_DATA_DIR === '' ? '.cage' : env.CAGE_DATA_DIR;
  const file = pseudonymKeyPath({ file: chosen, dataDir: isAbsolute(dataDir) ? dataDir : resolve(ctx.cwd(), dataDir) });
  return isAbsolute(file) ? file : resolve(ctx.cwd(), file);
}

/** Local key-file errors as CLI exit codes: a missing file 5, a different key in place 6. */
function keyFileStep<T>(step: () => T): T {
  try {
    return step();
  } catch (err) {
    if (err instanceof PseudonymKeyConflict) throw new CliError(ExitCode.Conflict, err.message);
    if (err instanceof KeyError) throw new CliError(/does not exist/.test(err.message) ? ExitCode.NotFound : ExitCode.Failed, err.message);
    throw new CliError(ExitCode.Failed, (err as Error).message);
  }
}

/** `cage admin …`: the operator's key lifecycle. */
export function registerAdminCommands(program: Command, io: CliIo): void {
  const admin = program
    .command('admin')
    .description('operator: rotate the signing key, back up and restore the pseudonym key, mint a first organizer or auditor token');

  admin
    .command('rotate-signing-key')
    .description('retire the signing key (tokens, checkpoints) and make a new one active on every replica within 1 s')
    .option(
      '--token-grace <duration>',
      "how long the retired key's tokens are still accepted: 0 refuses them at once (a key that may have leaked), 24h, 7d (default: until they expire)",
      parseGrace,
    )
    .addHelpText(
      'after',
      `${examples('cage admin rotate-signing-key', 'cage admin rotate-signing-key --token-grace 0   # the old key may have leaked')}
Checkpoints signed by the retired key stay verifiable: GET /v1/audit/checkpoint/keys lists every
key with its window, and \`cage audit verify\` follows the rotation through its keys.rotate leaf.
`,
    )
    .action(
      handler(io, async (ctx, opts: { tokenGrace?: number }) => {
        const body: RotateSigningKey = opts.tokenGrace === undefined ? {} : { tokenGraceSeconds: opts.tokenGrace };
        const r = await ctx.api().post<SigningKeyRotation>('/v1/keys/signing/rotate', body);
        if (ctx.json) return ctx.out.data(r);
        ctx.out.line(
          `retired ${r.retired.kid} (checkpoint key ${r.retired.keyId}); its tokens are accepted until ${time(r.retired.tokensUntil)}`,
        );
        ctx.out.line(`active  ${r.active.kid} (checkpoint key ${r.active.keyId})`);
        ctx.out.line(`verifier key: ${r.active.verifierKey}`);
      }),
    );

  admin
    .command('signing-keys')
    .description('list the signing keys with their validity windows')
    .action(
      handler(io, async (ctx) => {
        const { keys } = await ctx.api().get<SigningKeyList>('/v1/keys/signing');
        if (ctx.json) return ctx.out.data({ keys });
        ctx.out.table(
          ['kid', 'checkpoint key', 'from', 'until', 'tokens until', 'state'],
          keys.map((k) => [k.kid, k.keyId, time(k.notBefore), time(k.notAfter), time(k.tokensUntil), k.active ? 'active' : 'retired']),
          'no keys',
        );
      }),
    );

  admin
    .command('issue-token')
    .description(
      "mint a first organizer's or auditor's token where the gateway runs (its configuration, the shared database and signing key), logged before it is printed",
    )
    .requiredOption('--role <role>', 'organizer or auditor', (v: string) => {
      if (v !== 'organizer' && v !== 'auditor') throw new CliError(ExitCode.Usage, '--role must be organizer or auditor');
      return v;
    })
    .requiredOption('--subject <name>', 'who the token is for (the audit log names them user:<name>)')
    .option('--ttl <duration>', 'how long it is valid: 24h, 30d (default 30d)', (v: string) => parseDuration(v, true), 30 * 24 * 3600)
    .addHelpText(
      'after',
      `${examples('kubectl exec deploy/cage-gateway -- node dist/cli/main.js admin issue-token --role organizer --subject alice')}
For deployments on PostgreSQL (Kubernetes): no pod's disk is involved. On the embedded default
the first credentials are in the data directory's bootstrap.json.
`,
    )
    .action(
      handler(io, async (ctx, opts: { role: 'organizer' | 'auditor'; subject: string; ttl: number }) => {
        const issued = await issueTokenLocally(ctx.io.env, { role: opts.role, subject: opts.subject, ttlSeconds: opts.ttl });
        if (ctx.json) return ctx.out.data(issued);
        ctx.out.line(issued.token);
      }),
    );

  const pseudonym = admin
    .command('pseudonym-key')
    .description("back up and restore the pseudonym (re-identification) key: a file on the gateway's machine, never sent over the API");
  const keyFileOption = '--key-file <file>';
  const keyFileHelp = 'the key file (default: CAGE_PSEUDONYM_KEY_FILE, else $CAGE_DATA_DIR/keys/pseudonym-key)';

  pseudonym
    .command('fingerprint')
    .description("print the key's fingerprint (compare copies without showing the key)")
    .option(keyFileOption, keyFileHelp)
    .action(
      handler(io, (ctx, opts: { keyFile?: string }) => {
        const file = localKeyFile(ctx, opts.keyFile);
        const fingerprint = pseudonymKeyFingerprint(keyFileStep(() => readPseudonymKey(file)));
        if (ctx.json) ctx.out.data({ file, fingerprint });
        else ctx.out.line(fingerprint);
        return Promise.resolve();
      }),
    );

  pseudonym
    .command('export')
    .description('copy the key to a file (mode 0600) for a backup; prints its fingerprint')
    .requiredOption('--out <file>', 'where to write the copy')
    .option(keyFileOption, keyFileHelp)
    .option('--force', 'replace a different key already in the --out file')
    .addHelpText(
      'after',
      examples('cage admin pseudonym-key export --out /secure/backup/pseudonym-key', 'cage admin pseudonym-key fingerprint'),
    )
    .action(
      handler(io, (ctx, opts: { out: string; keyFile?: string; force?: boolean }) => {
        const file = localKeyFile(ctx, opts.keyFile);
        const key = keyFileStep(() => readPseudonymKey(file));
        const out = resolve(ctx.cwd(), opts.out);
        const result = keyFileStep(() => writePseudonymKey(out, key, opts.force === true));
        const fingerprint = pseudonymKeyFingerprint(key);
        if (ctx.json) {
          ctx.out.data({ file: out, fingerprint, written: result === 'written' });
          return Promise.resolve();
        }
        ctx.out.line(`${result === 'written' ? 'exported' : 'already exported'} to ${out} (mode 0600)`);
        ctx.out.line(`fingerprint ${fingerprint}`);
        ctx.out.note('keep it apart from the database backup: together they re-identify every patient');
        return Promise.resolve();
      }),
    );

  pseudonym
    .command('import')
    .description("restore the key from a backup copy into the gateway's key file; refuses to replace a different key without --force")
    .argument('<file>', 'a copy written by `cage admin pseudonym-key export`')
    .option(keyFileOption, keyFileHelp)
    .option('--force', 'replace a different key (the pseudonyms made with it can no longer be found or re-identified)')
    .addHelpText(
      'after',
      `${examples('cage admin pseudonym-key import /secure/backup/pseudonym-key')}
The gateway reads the key at start: stop it first, start it after. Exits 6 when a different key is
in place.
`,
    )
    .action(
      handler(io, (ctx, from: string, opts: { keyFile?: string; force?: boolean }) => {
        const key = keyFileStep(() => readPseudonymKey(resolve(ctx.cwd(), from)));
        const file = localKeyFile(ctx, opts.keyFile);
        const result = keyFileStep(() => writePseudonymKey(file, key, opts.force === true));
        const fingerprint = pseudonymKeyFingerprint(key);
        if (ctx.json) {
          ctx.out.data({ file, fingerprint, written: result === 'written' });
          return Promise.resolve();
        }
        ctx.out.line(`${result === 'written' ? 'imported into' : 'already in place:'} ${file} (mode 0600)`);
        ctx.out.line(`fingerprint ${fingerprint}`);
        if (result === 'written') ctx.out.note('restart the gateway: it reads the pseudonym key at start');
        return Promise.resolve();
      }),
    );
}
