import { createHash, generateKeyPairSync, sign } from 'node:crypto';
import { mkdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type Browser, type BrowserContext, chromium, type Locator, type Page } from 'playwright-core';
import { postEgress } from '../support/egress';
import { releasedSubmission } from '../support/submissions';
import { type Fixture, POLICY_DIR, startFixture } from '../support/fixture';
import { bearer, objectPath, rawRequest } from '../support/http';
import { egressExpectationsWithout, policyDirWith } from '../support/policies';
import { Checkpointer } from '../../src/audit/checkpointer.service';
import { TokenService } from '../../src/auth/token.service';

/**
 * The compliance officers' review page, in a real headless Chromium against a real gateway:
 * sign in with a token, filter the audit log, check the checkpoint, inspect a held artifact's
 * canonical content, two officers approve it, download what was released.
 */

const CHROMIUM = process.env.CAGE_TEST_CHROMIUM ?? '/usr/bin/chromium';
// The README's screenshots are rewritten only on request (CAGE_UPDATE_SCREENSHOTS=1), so a test
// run leaves the working tree clean; otherwise they go to a temporary directory.
const SCREENSHOTS =
  process.env.CAGE_UPDATE_SCREENSHOTS === '1'
    ? join(__dirname, '..', '..', 'docs', 'screenshots')
    : join(tmpdir(), `cage-screenshots-${process.pid}`);

const MODELS_AFTER_REVIEW = `@id("models-after-review")
permit (principal is Cage::Job, action == Cage::Action::"egress", resource is Cage::Artifact)
when { resource.kind == "model" };
`;

/** The shipped metrics kind, held for two-person review instead of released straight away. */
function metricsHeldForReview(): string {
  const kind = JSON.parse(readFileSync(join(POLICY_DIR, 'egress', 'metrics.json'), 'utf8')) as Record<string, unknown>;
  return `${JSON.stringify({ ...kind, review: 'two-person' }, null, 2)}\n`;
}

/** The few browser globals the page.evaluate callbacks touch (this project compiles without the DOM lib). */
interface InPage {
  sessionStorage: { length: number; setItem(key: string, value: string): void };
  localStorage: { length: number };
  document: {
    querySelectorAll(selector: string): { length: number };
    querySelector(selector: string): { getAttribute(name: string): string | null } | null;
  };
  __pwned?: number;
}

const sha256 = (b: Buffer | string) => createHash('sha256').update(b).digest('hex');

/** A C2SP checkpoint signed by a fresh Ed25519 key, and its verifier key. */
function signedCheckpoint(origin: string, size: number, root: Buffer, keyName = 'cage-test-log') {
  const { publicKey, privateKey } = generateKeyPairSync('ed25519');
  const raw = Buffer.from(publicKey.export({ format: 'jwk' }).x!, 'base64url');
  const encoded = Buffer.concat([Buffer.from([0x01]), raw]);
  const keyId = createHash('sha256').update(`${keyName}\n`).update(encoded).digest().subarray(0, 4);
  const body = `${origin}\n${size}\n${root.toString('base64')}\n`;
  const signature = sign(null, Buffer.from(body), privateKey);
  return {
    body,
    note: `${body}\n\u2014 ${keyName} ${Buffer.concat([keyId, signature]).toString('base64')}\n`,
    verifierKey: `${keyName}+${keyId.toString('hex')}+${encoded.toString('base64')}`,
  };
}

describe('the review page (/ui/) in a real browser', () => {
  let f: Fixture;
  let dir: string;
  let browser: Browser;
  let context: BrowserContext;
  let page: Page;
  let officers: { ann: string; bob: string; insider: string };
  let metricsId: string;
  let modelId: string;
  const consoleErrors: string[] = [];

  beforeAll(async () => {
    dir = policyDirWith({
      'egress/metrics.json': metricsHeldForReview(),
      'models.cedar': MODELS_AFTER_REVIEW,
      'tests/egress.json': egressExpectationsWithout('model weights do not leave without an explicit policy'),
      'budget.json': '{"dailyBits": 100000000, "dailySubmissions": {"predictions": 5, "metrics": 50, "model": 20, "submissions": 5}}',
    });
    f = await startFixture({ db: 'pglite', policyDir: dir });
    const t = f.gateway.get(TokenService);
    officers = {
      ann: await t.issueUser('ann', 'auditor', null, 600),
      bob: await t.issueUser('bob', 'auditor', null, 600),
      // A compliance officer who is also a member of the submitting team.
      insider: await t.issueUser('ivy', 'auditor', 'beta', 600),
    };

    // What the log will hold: a held metrics artifact (text), a held model (opaque), a refused
    // metrics submission, a denied read of the labels, and a read whose key is markup.
    const metrics = await postEgress(
      f.gateway.sandboxUrl,
      'metrics',
      f.beta.token,
      '{"n": 120, "metrics": {"froc": 0.81234, "loss": [0.93456, 0.7102]}}',
      'application/json',
    );
    expect(metrics.status).toBe(202);
    expect(metrics.json).toMatchObject({ status: 'pending_review', kind: 'metrics' });
    metricsId = metrics.json.id as string;
    const model = await postEgress(f.gateway.sandboxUrl, 'model', f.beta.token, Buffer.alloc(64, 7), 'application/octet-stream');
    expect(model.status).toBe(202);
    modelId = model.json.id as string;
    expect(
      (await postEgress(f.gateway.sandboxUrl, 'metrics', f.beta.token, '{"n": 5, "metrics": {"froc": 0.5}}', 'application/json')).status,
    ).toBe(422);
    expect(
      (await rawRequest(f.gateway.sandboxUrl, 'GET', objectPath('ct', 'labels/test_annotations.csv'), bearer(f.alpha.token))).status,
    ).toBe(404);
    await rawRequest(
      f.gateway.sandboxUrl,
      'GET',
      objectPath('ct', 'train/<img src=x onerror="window.__pwned=1">.txt'),
      bearer(f.alpha.token),
    );
    // Enough leaves for more than one page.
    for (let i = 0; i < 30; i++)
      expect((await rawRequest(f.gateway.sandboxUrl, 'GET', objectPath('ct', 'train/empty.bin'), bearer(f.alpha.token))).status).toBe(200);

    browser = await chromium.launch({
      executablePath: CHROMIUM,
      args: [
        '--headless',
        '--no-sandbox',
        '--disable-gpu',
        '--disable-background-networking',
        '--disable-component-update',
        '--disable-sync',
        '--no-first-run',
      ],
    });
    context = await browser.newContext({ viewport: { width: 1440, height: 960 }, acceptDownloads: true });
    page = await context.newPage();
    page.on('console', (m) => {
      // A 4xx the page handles (404 checkpoint, 403 review) is logged by Chromium as a failed
      // resource load; anything else (a CSP or Trusted Types violation, a script error) is a defect.
      if (m.type() === 'error' && !m.text().startsWith('Failed to load resource')) consoleErrors.push(m.text());
    });
    page.on('pageerror', (e) => consoleErrors.push(`pageerror: ${e.message}`));
    mkdirSync(SCREENSHOTS, { recursive: true });
  }, 120_000);

  afterAll(async () => {
    await browser?.close();
    await f?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  const ui = () => `${f.gateway.controlUrl}/ui/`;
  const api = async (path: string, token = officers.ann) => rawRequest(f.gateway.controlUrl, 'GET', path, bearer(token));
  const text = async (l: Locator) => ((await l.textContent()) ?? '').trim();
  const shot = (name: string) => page.screenshot({ path: join(SCREENSHOTS, name), fullPage: true });

  async function signIn(token: string, sub: string) {
    await page.goto(ui());
    await page.locator('#token').fill(token);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.locator('#who-sub', { hasText: sub }).waitFor();
  }

  async function signOut() {
    await page.getByRole('button', { name: 'Sign out' }).click();
    await page.locator('#signin').waitFor();
    expect(await page.evaluate(() => (globalThis as unknown as InPage).sessionStorage.length)).toBe(0);
  }

  async function openArtifact(id: string, status = 'pending_review') {
    await page.getByRole('tab', { name: 'Egress artifacts' }).click();
    await page.locator('#artifact-filter select[name=status]').selectOption(status);
    await page.getByRole('button', { name: 'Show' }).click();
    await page.locator(`button[data-artifact="${id}"]`).click();
    await page.locator('#artifact-title', { hasText: id }).waitFor();
  }

  it('serves the page and its assets publicly, with no-store and a strict CSP, and nothing outside its allow-list', async () => {
    const bare = await rawRequest(f.gateway.controlUrl, 'GET', '/ui');
    expect([301, 302, 307, 308]).toContain(bare.status);
    expect(bare.headers.location).toBe('/ui/');

    const index = await rawRequest(f.gateway.controlUrl, 'GET', '/ui/');
    expect(index.status).toBe(200);
    expect(index.headers['content-type']).toMatch(/^text\/html/);
    expect(index.headers['cache-control']).toBe('no-store');
    const csp = String(index.headers['content-security-policy']);
    expect(csp).toContain("default-src 'self'");
    expect(csp).toMatch(/script-src 'self'(;|$)/);
    expect(csp).not.toContain('unsafe-inline');
    expect(csp).not.toContain('unsafe-eval');
    expect(index.body.toString()).not.toMatch(/<script(?![^>]*\bsrc=)[^>]*>/);

    for (const [file, type] of [
      ['app.js', /^text\/javascript/],
      ['api.js', /^text\/javascript/],
      ['checkpoint.js', /^text\/javascript/],
      ['styles.css', /^text\/css/],
      ['favicon.svg', /^image\/svg\+xml/],
    ] as const) {
      const r = await rawRequest(f.gateway.controlUrl, 'GET', `/ui/${file}`);
      expect(r.status).toBe(200);
      expect(r.headers['content-type']).toMatch(type);
      expect(r.headers['cache-control']).toBe('no-store');
      expect(r.headers['content-security-policy']).toBe(csp);
      expect(r.body.equals(readFileSync(join(__dirname, '..', '..', 'src', 'ui', 'public', file)))).toBe(true);
    }
    for (const path of [
      '/ui/nope.js',
      '/ui/..%2Fui.controller.ts',
      '/ui/%2e%2e%2f%2e%2e%2fpackage.json',
      '/ui/../package.json',
      '/ui/constructor',
      '/ui/__proto__',
      '/ui/index.html%00',
      '/ui/public',
      '/ui/app.js/',
      '/ui/x/app.js',
      '/ui/%61pp.js',
      '/ui//app.js',
    ]) {
      const r = await rawRequest(f.gateway.controlUrl, 'GET', path);
      expect({ path, status: r.status }).toEqual({ path, status: 404 });
      expect(r.body.toString()).not.toContain('import ');
    }
  });

  it('refuses a token the gateway does not accept, and keeps nothing', async () => {
    await page.goto(ui());
    const forged = `${officers.ann.split('.').slice(0, 2).join('.')}.${Buffer.alloc(64).toString('base64url')}`;
    await page.locator('#token').fill(forged);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.locator('#signin-error', { hasText: 'refused' }).waitFor();
    expect(await page.evaluate(() => (globalThis as unknown as InPage).sessionStorage.length)).toBe(0);
    expect(await page.locator('#app').isHidden()).toBe(true);
  });

  it('an auditor signs in, sees who they are, the checkpoint state, and filters the log', async () => {
    await signIn(officers.ann, 'ann');
    expect(await text(page.locator('#who-role'))).toBe('auditor');
    expect(await page.evaluate(() => Object.keys((globalThis as unknown as InPage).sessionStorage))).toEqual(['cage.review.token']);
    expect(await page.evaluate(() => (globalThis as unknown as InPage).localStorage.length)).toBe(0);

    // Before the gateway's first checkpoint: "no checkpoint yet"; after it, it must verify.
    const badge = page.locator('#cp-badge');
    if ((await api('/v1/audit/checkpoint')).status === 404) await badge.filter({ hasText: 'No checkpoint yet' }).waitFor();
    // The gateway signs a checkpoint every N leaves or T seconds; make one now.
    await f.gateway.get(Checkpointer).checkpoint();
    const checkpoint = await api('/v1/audit/checkpoint');
    expect(checkpoint.status).toBe(200);
    const [origin, size] = checkpoint.body.toString().split('\n');
    const key = (await api('/v1/audit/checkpoint/key')).body.toString().trim();
    await page.getByRole('button', { name: 'Refresh' }).click();
    await page.locator('#cp-size', { hasText: `${Number(size).toLocaleString('en-US')} leaves` }).waitFor();
    expect(await text(badge)).toBe('Verified');
    expect(await text(page.locator('#cp-origin'))).toBe(origin);
    expect(await text(page.locator('#cp-key'))).toBe(key.split('+').slice(0, 2).join('+'));

    // The first page is the whole (small) log.
    await page.locator('#log-caption', { hasText: 'Leaves #' }).waitFor();
    const all = JSON.parse((await api('/v1/audit?limit=50')).body.toString()) as { leaves: { index: number }[] };
    expect(await page.locator('#log-rows tr[data-index]').count()).toBe(all.leaves.length);

    // Filter: the holds.
    await page.locator('#log-filter input[name=action]').fill('egress.hold');
    await page.getByRole('button', { name: 'Apply filters' }).click();
    await page.locator('#log-caption', { hasText: '(2 shown' }).waitFor();
    const holdRows = page.locator('#log-rows tr[data-index]');
    expect(await holdRows.count()).toBe(2);
    for (let i = 0; i < 2; i++) expect(await text(holdRows.nth(i).locator('td').nth(4))).toBe('egress.hold');
    const resources = await holdRows.locator('td:nth-child(8)').allTextContents();
    expect(resources).toEqual([`artifact:${metricsId}`, `artifact:${modelId}`]);

    // Filter: denials, which include the labels read and the refused metrics.
    await page.locator('#log-filter input[name=action]').fill('');
    await page.locator('#log-filter select[name=decision]').selectOption('deny');
    await page.getByRole('button', { name: 'Apply filters' }).click();
    await page.locator('#log-caption', { hasText: /Leaves #\d+ – #\d+ \(\d+ shown/ }).waitFor();
    const denied = JSON.parse((await api('/v1/audit?decision=deny&limit=50')).body.toString()) as {
      leaves: { index: number; leaf: { action: string } }[];
    };
    await page.waitForFunction(
      (n) => (globalThis as unknown as InPage).document.querySelectorAll('#log-rows tr[data-index]').length === n,
      denied.leaves.length,
    );
    const decisions = await page.locator('#log-rows tr[data-index] td:nth-child(6)').allTextContents();
    expect(new Set(decisions)).toEqual(new Set(['deny']));
    const actions = await page.locator('#log-rows tr[data-index] td:nth-child(5)').allTextContents();
    expect(actions).toEqual(expect.arrayContaining(['read', 'egress.reject']));
    expect(actions).toEqual(denied.leaves.map((l) => l.leaf.action));
    await shot('review-log.png');

    // A leaf's full JSON opens below its row.
    const firstRow = page.locator('#log-rows tr[data-index]').first();
    await firstRow.locator('button[aria-expanded]').click();
    expect(await text(page.locator('#log-rows tr.leaf-detail:not([hidden]) pre'))).toContain('"decision": "deny"');
  });

  it('pages through the log with the cursor', async () => {
    await page.locator('#log-filter button[type=reset]').click();
    await page.locator('#log-filter select[name=limit]').selectOption('25');
    await page.getByRole('button', { name: 'Apply filters' }).click();
    await page.locator('#log-caption', { hasText: '(25 shown)' }).waitFor();
    const first = await page.locator('#log-rows tr[data-index]').first().getAttribute('data-index');
    await page.getByRole('button', { name: 'Next page' }).click();
    await page.waitForFunction(
      (idx) => (globalThis as unknown as InPage).document.querySelector('#log-rows tr[data-index]')?.getAttribute('data-index') !== idx,
      first,
    );
    const next = Number(await page.locator('#log-rows tr[data-index]').first().getAttribute('data-index'));
    expect(next).toBeGreaterThan(Number(first) + 24);
    await page.getByRole('button', { name: 'First page' }).click();
    await page.waitForFunction(
      (idx) => (globalThis as unknown as InPage).document.querySelector('#log-rows tr[data-index]')?.getAttribute('data-index') === idx,
      first,
    );
  });

  it('shows markup from the log as text, never as HTML', async () => {
    await page.locator('#log-filter select[name=limit]').selectOption('500');
    await page.locator('#log-filter input[name=principal]').fill(`job:${f.alpha.jobId}`);
    await page.getByRole('button', { name: 'Apply filters' }).click();
    const cell = page.locator('#log-rows td', { hasText: '<img src=x onerror="window.__pwned=1">' });
    await cell.first().waitFor();
    expect(await cell.first().locator('img').count()).toBe(0);
    expect(await page.evaluate(() => (globalThis as unknown as InPage).__pwned)).toBeUndefined();
  });

  it('opens the held metrics artifact: inspection, canonical content; the first officer approves', async () => {
    await openArtifact(metricsId);
    const { artifact } = JSON.parse((await api(`/v1/egress/${metricsId}`)).body.toString()) as {
      artifact: { sha256: string; bits: number; bytes: number };
    };
    expect(await text(page.locator('#artifact-status'))).toBe('pending review');
    const facts = await text(page.locator('#artifact-facts'));
    expect(facts).toContain('metrics');
    expect(facts).toContain(artifact.sha256);
    expect(facts.replace(/,/g, '')).toContain(`${artifact.bits} bits`);
    expect(await text(page.locator('#reviews-empty'))).toBe('No reviews yet.');

    // The canonical bytes as they would leave: rounded to 3 significant digits, canonical JSON.
    const pre = page.locator('pre#content');
    await pre.waitFor();
    const shown = (await pre.textContent()) ?? '';
    expect(shown).toContain('"froc":0.812');
    expect(sha256(shown)).toBe(artifact.sha256);

    // A comment is required.
    await page.getByRole('button', { name: 'Approve' }).click();
    await page.locator('#review-error', { hasText: 'comment is required' }).waitFor();

    await page.locator('#review-comment').fill('Aggregate over 120 scans; FROC and a two-point loss curve only.');
    await shot('review-artifact.png');
    await page.getByRole('button', { name: 'Approve' }).click();
    await page.locator('#review-done', { hasText: '1 of 2 approvals' }).waitFor();
    expect(await page.locator('#review-form').isHidden()).toBe(true);
    expect(await page.locator('#review-rows tr').allTextContents()).toEqual([expect.stringContaining('user:ann')]);
    await signOut();
  });

  it('shows the server’s refusal to an officer of the submitting team', async () => {
    await signIn(officers.insider, 'ivy');
    await openArtifact(metricsId);
    await page.locator('#review-comment').fill('looks fine to me');
    await page.getByRole('button', { name: 'Approve' }).click();
    await page.locator('#review-error', { hasText: 'reviewers must be independent of the submitting team' }).waitFor();
    expect(await text(page.locator('#review-error'))).toContain('403');
    const { artifact, reviews } = JSON.parse((await api(`/v1/egress/${metricsId}`)).body.toString()) as {
      artifact: { status: string };
      reviews: unknown[];
    };
    expect(artifact.status).toBe('pending_review');
    expect(reviews).toHaveLength(1);
    await signOut();
  });

  it('does not show an opaque artifact’s bytes as text', async () => {
    await signIn(officers.bob, 'bob');
    await openArtifact(modelId);
    await page.locator('#content-message', { hasText: 'Opaque artifact' }).waitFor();
    expect(await page.locator('pre#content').isHidden()).toBe(true);
  });

  it('a second officer approves: the artifact is released and its download is exactly the released bytes', async () => {
    await openArtifact(metricsId);
    await page.locator('#review-rows tr', { hasText: 'user:ann' }).waitFor();
    await page.locator('#review-comment').fill('Second look: aggregate only, n ≥ 10. Release.');
    await page.getByRole('button', { name: 'Approve' }).click();
    await page.locator('#artifact-status', { hasText: 'released' }).waitFor();
    expect(await page.locator('#review-rows tr').count()).toBe(2);

    const content = await api(`/v1/egress/${metricsId}/content`);
    expect(content.status).toBe(200);
    const [download] = await Promise.all([
      page.waitForEvent('download'),
      page.getByRole('button', { name: 'Download released content' }).click(),
    ]);
    const saved = readFileSync(await download.path());
    expect(saved.equals(content.body)).toBe(true);
    expect(download.suggestedFilename()).toBe(metricsId);
    await page.locator('#download-result', { hasText: 'matches the release leaf' }).waitFor();
    expect(sha256(saved)).toBe(content.headers['x-cage-sha256']);
    await shot('review-released.png');

    // The pending list no longer holds it; the released list does.
    await page.getByRole('tab', { name: 'Egress artifacts' }).click();
    await page.locator('#artifact-filter select[name=status]').selectOption('released');
    await page.getByRole('button', { name: 'Show' }).click();
    await page.locator(`#artifact-rows button[data-artifact="${metricsId}"]`).waitFor();

    // The log records both reviews and the release.
    await page.getByRole('tab', { name: 'Audit log' }).click();
    await page.locator('#log-filter input[name=action]').fill('egress.release');
    await page.getByRole('button', { name: 'Apply filters' }).click();
    await page.locator('#log-caption', { hasText: '(1 shown' }).waitFor();
    expect(await page.locator('#log-rows tr[data-index] td:nth-child(8)').allTextContents()).toEqual([`artifact:${metricsId}`]);
    expect(await page.locator('#log-rows tr[data-index] td:nth-child(3)').allTextContents()).toEqual(['user:bob']);
  });

  it('verifies the checkpoint’s Ed25519 signature in the browser, and flags a tampered one', async () => {
    // Base64 keys often hold '+', the verifier key's separator: the page must split on the first two only.
    let cp = signedCheckpoint('cage.test/log', 42, createHash('sha256').update('root').digest());
    while (cp.verifierKey.split('+').length <= 3) cp = signedCheckpoint('cage.test/log', 42, createHash('sha256').update('root').digest());
    let note = cp.note;
    let notePresent = true;
    await page.route('**/v1/audit/checkpoint', (route) =>
      route.fulfill(
        notePresent
          ? { status: 200, contentType: 'text/plain; charset=utf-8', body: note }
          : { status: 404, contentType: 'application/json', body: '{"error":"not_found","message":"no checkpoint yet"}' },
      ),
    );
    await page.route('**/v1/audit/checkpoint/key', (route) =>
      route.fulfill({ status: 200, contentType: 'text/plain; charset=utf-8', body: `${cp.verifierKey}\n` }),
    );
    const refresh = async (expected: string) => {
      await page.getByRole('button', { name: 'Refresh' }).click();
      await page.locator('#cp-badge', { hasText: new RegExp(`^${expected}$`) }).waitFor();
    };

    await refresh('Verified');
    expect(await text(page.locator('#cp-origin'))).toBe('cage.test/log');
    expect(await text(page.locator('#cp-size'))).toBe('42 leaves');
    expect(await text(page.locator('#cp-key'))).toBe(cp.verifierKey.split('+').slice(0, 2).join('+'));
    expect(await text(page.locator('#cp-root'))).toContain(createHash('sha256').update('root').digest().toString('base64'));

    note = cp.note.replace('\n42\n', '\n43\n');
    await refresh('NOT verified');
    expect(await text(page.locator('#cp-message'))).toContain('does not verify');

    const other = signedCheckpoint('cage.test/log', 42, createHash('sha256').update('root').digest());
    note = other.note;
    await refresh('NOT verified');
    expect(await text(page.locator('#cp-message'))).toContain('no signature by');
    // Right after a rotation the newest checkpoint is the retired key's: it verifies with that key,
    // which the gateway lists with its window (GET /v1/audit/checkpoint/keys).
    const retired = {
      keyId: '00000000',
      verifierKey: other.verifierKey,
      kid: 'k',
      notBefore: '2026-01-01T00:00:00.000Z',
      notAfter: '2026-02-01T00:00:00.000Z',
      tokensUntil: '2026-02-01T00:00:00.000Z',
      active: false,
    };
    await page.route('**/v1/audit/checkpoint/keys', (route) =>
      route.fulfill({ status: 200, contentType: 'application/json', body: JSON.stringify({ keys: [retired] }) }),
    );
    await refresh('Verified');
    expect(await text(page.locator('#cp-message'))).toContain('by a key retired at 2026-02-01T00:00:00.000Z');
    await page.unroute('**/v1/audit/checkpoint/keys');

    note = '<b>not a note</b>';
    await refresh('NOT verified');
    expect(await text(page.locator('#cp-message'))).toContain('does not end with a newline');
    expect(await page.locator('#checkpoint b').count()).toBe(0);

    notePresent = false;
    await refresh('No checkpoint yet');
    await page.unroute('**/v1/audit/checkpoint');
    await page.unroute('**/v1/audit/checkpoint/key');
  });

  it('shows the leaderboard: the public board, and the private ranking once the competition is closed', async () => {
    const { LeaderboardRepository } = await import('../../src/leaderboard/leaderboard.repository');
    const repo = f.gateway.get(LeaderboardRepository);
    await releasedSubmission(f, { id: 'egr-ui-1', team: 'beta', shown: 0.62 });
    await releasedSubmission(f, { id: 'egr-ui-2', team: 'alpha', shown: 0.71 });
    await releasedSubmission(f, { id: 'egr-ui-3', team: 'beta', shown: 0.64 });
    await page.goto(ui());
    if (await page.locator('#signin').isHidden()) await signOut();
    await signIn(officers.ann, 'ann');
    await page.getByRole('tab', { name: 'Leaderboard' }).click();
    await page.locator('#lb-state', { hasText: 'open' }).waitFor();
    const cells = async (tbody: string) =>
      (await page.locator(`${tbody} tr`).allInnerTexts()).map((r) => r.split('\t').map((c) => c.trim()));
    expect(await cells('#lb-public')).toEqual([
      ['1', 'alpha', '0.71', '1'],
      ['2', 'beta', '0.64', '2'],
    ]);
    expect(await page.locator('#lb-private-section').isHidden()).toBe(true);
    // The exact public scores are nowhere on the board.
    expect(await page.locator('#panel-leaderboard').textContent()).not.toContain('0.643');

    await repo.close(
      'submissions',
      new Date(),
      'user:olga',
      new Map([
        ['egr-ui-1', 0.8],
        ['egr-ui-2', 0.5],
      ]),
    );
    await page.locator('#lb-refresh').click();
    await page.locator('#lb-state', { hasText: 'closed' }).waitFor();
    expect(await cells('#lb-private')).toEqual([
      ['1', 'beta', '0.8'],
      ['2', 'alpha', '0.5'],
    ]);
    // Arrow keys move between the three tabs.
    await page.getByRole('tab', { name: 'Leaderboard' }).press('ArrowRight');
    expect(await page.getByRole('tab', { name: 'Audit log' }).getAttribute('aria-selected')).toBe('true');
  });

  it('signs out when the gateway stops accepting the token, and had no console errors', async () => {
    await signOut();
    await signIn(officers.ann, 'ann');
    await page.evaluate(() => (globalThis as unknown as InPage).sessionStorage.setItem('cage.review.token', 'x.eyJzdWIiOiJhbm4ifQ.y'));
    await page.getByRole('button', { name: 'Apply filters' }).click();
    await page.locator('#notice', { hasText: 'sign in again' }).waitFor();
    expect(await page.evaluate(() => (globalThis as unknown as InPage).sessionStorage.length)).toBe(0);
    expect(consoleErrors).toEqual([]);
  });
});
