import { cage, FakeApi } from './cli-harness';

/** Bad input is a usage error (exit 2) found locally: the server never hears of it. */
describe('cage usage errors', () => {
  let api: FakeApi;
  beforeAll(async () => (api = await new FakeApi().start()));
  afterAll(() => api.stop());
  beforeEach(() => api.requests.splice(0));

  it.each([
    [['dataset', 'add', 'lung', '--bucket', 'b', '--prefix', 'p/'], /required option '--split/],
    [['dataset', 'add', 'lung', '--bucket', 'b', '--prefix', 'p/', '--split', 'train:bogus:train/'], /kind "bogus" is not one of/],
    [['dataset', 'add', 'lung', '--bucket', 'b', '--prefix', 'p/', '--split', 'train/'], /name:kind:prefix/],
    [['dataset', 'show'], /missing required argument 'id'/],
    [['team', 'add', 't1'], /required option '--name/],
    [['team', 'member', 'add', 't1'], /missing required argument 'subject'/],
    [
      ['grant', 'add', '--team', 't', '--dataset', 'd', '--split', 's', '--from', 'now', '--until', '30'],
      /'--until <time>' argument '30' is invalid/,
    ],
    [
      ['grant', 'add', '--team', 't', '--dataset', 'd', '--split', 's', '--from', 'yesterday', '--until', '+1d'],
      /'--from <time>' argument 'yesterday' is invalid/,
    ],
    [['grant', 'add', '--team', 't', '--dataset', 'd', '--split', 's', '--from', '2025-06-01T00:00', '--until', '+1d'], /add a time zone/],
    [
      ['grant', 'add', '--team', 't', '--dataset', 'd', '--split', 's', '--from', 'now', '--until', '+1d', '--quota', '10GB/s'],
      /'--quota <size>' argument '10GB\/s' is invalid/,
    ],
    [
      ['grant', 'add', '--team', 't', '--dataset', 'd', '--split', 's', '--from', '2025-06-10', '--until', '2025-06-01'],
      /--until \(2025-06-01T00:00:00Z\) must be after --from \(2025-06-10T00:00:00Z\)/,
    ],
    [['job', 'create', '--team', 't', '--ttl', '2d'], /between 60 s and 24 h/],
    [['job', 'create', '--team', 't', '--ttl', 'soon'], /'--ttl <duration>' argument 'soon' is invalid/],
    [['token', 'issue', '--subject', 's', '--role', 'root'], /Allowed choices are organizer, auditor, contestant/],
    [['token', 'issue', '--subject', 's', '--role', 'contestant'], /--role contestant needs --team/],
    [['token', 'issue', '--subject', 's', '--role', 'auditor', '--team', 't'], /--team is only for --role contestant/],
    [['token', 'issue', '--subject', 's', '--role', 'auditor', '--ttl', '1fortnight'], /'--ttl <duration>' argument/],
    [['policy', 'rollback', 'v3'], /argument 'version'/],
    [['policy', 'check', '/nonexistent-policy-dir'], /no such policy directory/],
    [['dataset', 'list', '--bogus'], /unknown option '--bogus'/],
    [['datasets'], /unknown command 'datasets'/],
    [['team', 'list', '--url', 'ftp://example.org'], /--url is not an http\(s\) URL/],
  ])('cage %j exits 2', async (argv, message) => {
    const r = await cage(argv, { env: api.env() });
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/^cage: /);
    expect(r.stderr).toMatch(message);
    expect(r.stdout).toBe('');
    expect(api.requests).toHaveLength(0);
  });

  it('prints help for a command group without a subcommand, on stderr, exit 2', async () => {
    const r = await cage(['grant'], { env: api.env() });
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('Usage: cage grant');
  });

  it('answers --help with exit 0 on stdout, listing every command and the exit codes', async () => {
    const r = await cage(['--help']);
    expect(r.code).toBe(0);
    for (const line of [
      'dataset index <id> [--no-wait]',
      'team member remove <team> <subject>',
      'grant list [--team <team>] [--dataset <dataset>] [--active]',
      'policy rollback <version>',
      'token issue --subject <subject> --role organizer|auditor|contestant',
    ]) {
      expect(r.stdout).toContain(line);
    }
    expect(r.stdout).toMatch(/Exit codes:[\s\S]*7 {2}policy refused/);
  });

  it('gives every leaf command a --help with exit 0', async () => {
    for (const argv of [
      ['dataset', 'index'],
      ['team', 'member', 'add'],
      ['grant', 'add'],
      ['job', 'create'],
      ['policy', 'check'],
      ['token', 'issue'],
    ]) {
      const r = await cage([...argv, '--help']);
      expect(r.code).toBe(0);
      expect(r.stdout).toContain(`Usage: cage ${argv.join(' ')}`);
    }
  });
});
