// The compliance officers' review page. Everything shown comes from the API with the officer's
// token and is rendered as text (textContent / text nodes): never as HTML.

import { api, bytesToHex, clearToken, decodeJwt, getJson, getToken, onUnauthorized, query, setToken } from './api.js';
import { verifyCheckpoint } from './checkpoint.js';

const $ = (id) => {
  const el = document.getElementById(id);
  if (el === null) throw new Error(`missing #${id}`);
  return el;
};

/** An element with attributes and children; strings become text nodes. */
function h(tag, attrs = {}, ...children) {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (v === undefined || v === null || v === false) continue;
    if (k === 'class') el.className = v;
    else if (k === 'text') el.textContent = v;
    else if (k.startsWith('on')) el.addEventListener(k.slice(2), v);
    else el.setAttribute(k, v === true ? '' : String(v));
  }
  for (const c of children.flat()) if (c !== undefined && c !== null && c !== false) el.append(c instanceof Node ? c : String(c));
  return el;
}

function showError(el, err) {
  if (err === undefined || err === null) {
    el.hidden = true;
    el.textContent = '';
    return;
  }
  const msg = err instanceof Error ? err.message : String(err);
  const status = typeof err.status === 'number' && err.status > 0 ? ` (${err.status})` : '';
  el.textContent = `${msg}${status}`;
  el.hidden = false;
}

const nf = new Intl.NumberFormat('en-US');
const fmtNum = (n) => (typeof n === 'number' ? nf.format(n) : n === null || n === undefined ? '—' : String(n));
const fmtTime = (iso) => (typeof iso === 'string' ? iso.replace('T', ' ').replace(/Z$/, '') : '—');

function badge(text, tone) {
  return h('span', { class: `badge ${tone}`, text });
}
const DECISION_TONE = { allow: 'ok', deny: 'bad', error: 'warn', info: 'neutral' };
const STATUS_TONE = { pending_review: 'warn', released: 'ok', releasing: 'neutral', rejected: 'bad', failed: 'bad' };
const STATUS_TEXT = {
  pending_review: 'pending review',
  released: 'released',
  releasing: 'releasing',
  rejected: 'rejected',
  failed: 'failed',
};

function setBadge(el, text, tone) {
  el.textContent = text;
  el.className = `badge ${tone}`;
}

/* ------------------------------------------------------------------ session */

let me = null;

function notice(text) {
  const el = $('notice');
  el.textContent = text ?? '';
  el.hidden = text === undefined || text === null;
}

function showSignedOut() {
  me = null;
  $('app').hidden = true;
  $('whoami').hidden = true;
  $('signin').hidden = false;
  resetViews();
  $('token').focus();
}

function showSignedIn(claims) {
  me = claims;
  $('who-sub').textContent = String(claims.sub ?? '?');
  $('who-role').textContent = String(claims.role ?? 'no role');
  $('who-team').textContent = typeof claims.team === 'string' ? `team ${claims.team}` : '';
  $('who-exp').textContent =
    typeof claims.exp === 'number' ? `token expires ${fmtTime(new Date(claims.exp * 1000).toISOString().slice(0, 16))} UTC` : '';
  $('whoami').hidden = false;
  $('signin').hidden = true;
  $('app').hidden = false;
  void loadCheckpoint();
  void loadLog(undefined);
  void loadArtifacts(false);
}

function signOut(message) {
  clearToken();
  showSignedOut();
  notice(message);
}

async function signIn(event) {
  event.preventDefault();
  const errEl = $('signin-error');
  showError(errEl, null);
  const token = $('token')
    .value.trim()
    .replace(/^Bearer\s+/i, '');
  let claims;
  try {
    if (token === '') throw new Error('paste a token first');
    claims = decodeJwt(token);
    if (typeof claims.exp === 'number' && claims.exp * 1000 <= Date.now()) throw new Error('this token has expired');
    if (claims.typ === 'job') throw new Error('this is a job token (sandbox listener); sign in with a user token');
    // Ask the gateway whether it accepts the token (a 403 later is a role matter, not a sign-in one).
    await api(`/v1/egress${query({ limit: 1 })}`, { token });
  } catch (err) {
    if (err?.status !== undefined && err.status !== 401 && err.status !== 0) {
      // Accepted as a credential; the role may still lack some views.
    } else {
      showError(errEl, err?.status === 401 ? new Error(`the gateway refused this token: ${err.message}`) : err);
      return;
    }
  }
  setToken(token);
  $('token').value = '';
  notice(null);
  showSignedIn(claims);
}

/* --------------------------------------------------------------- checkpoint */

async function loadCheckpoint() {
  const badgeEl = $('cp-badge');
  const msg = $('cp-message');
  const details = $('cp-details');
  $('checkpoint').setAttribute('aria-busy', 'true');
  setBadge(badgeEl, 'Checking…', 'neutral');
  try {
    const noteRes = await api('/v1/audit/checkpoint');
    const noteBytes = new Uint8Array(await noteRes.arrayBuffer());
    let keyText = '';
    try {
      keyText = await (await api('/v1/audit/checkpoint/key')).text();
    } catch (err) {
      if (err?.status !== 404) throw err;
    }
    let r = keyText === '' ? { verified: false, reason: 'the gateway serves no verifier key' } : await verifyCheckpoint(noteBytes, keyText);
    // Right after a signing-key rotation the newest checkpoint is still the retired key's: it
    // verifies with that key, which the gateway keeps serving with its validity window.
    if (!r.verified && keyText !== '') {
      const retired = await retiredKeys();
      for (const k of retired) {
        const older = await verifyCheckpoint(noteBytes, k.verifierKey);
        if (older.verified) {
          r = { ...older, reason: `${older.reason} (by a key retired at ${k.notAfter})` };
          break;
        }
      }
    }
    if (r.verified) setBadge(badgeEl, 'Verified', 'ok');
    else setBadge(badgeEl, 'NOT verified', 'bad');
    msg.textContent = r.verified
      ? `${r.reason}. The key is served by this gateway: compare its id with the one your organization published.`
      : `Not verified: ${r.reason}.`;
    if (r.note !== undefined) {
      $('cp-origin').textContent = r.note.origin;
      $('cp-size').textContent = `${/^\d{1,15}$/.test(r.note.size) ? nf.format(Number(r.note.size)) : r.note.size} leaves`;
      $('cp-root').textContent = `${r.note.rootBase64} (hex ${bytesToHex(r.note.root)})`;
      $('cp-key').textContent = r.key === undefined ? '—' : `${r.key.name}+${r.key.idHex}`;
      details.hidden = false;
    } else {
      details.hidden = true;
    }
  } catch (err) {
    details.hidden = true;
    if (err?.status === 404) {
      setBadge(badgeEl, 'No checkpoint yet', 'neutral');
      msg.textContent = 'The gateway has not published a signed checkpoint of the audit log yet.';
    } else {
      setBadge(badgeEl, 'Unavailable', 'warn');
      msg.textContent = err instanceof Error ? err.message : String(err);
    }
  } finally {
    $('checkpoint').setAttribute('aria-busy', 'false');
  }
}

/** Retired checkpoint keys from GET /v1/audit/checkpoint/keys; none if the gateway serves no list. */
async function retiredKeys() {
  try {
    const { keys } = await (await api('/v1/audit/checkpoint/keys')).json();
    return Array.isArray(keys) ? keys.filter((k) => k && k.active === false && typeof k.verifierKey === 'string') : [];
  } catch {
    return [];
  }
}

/* ---------------------------------------------------------------- audit log */

const log = { params: {}, cursor: undefined, next: null, seq: 0 };

function resourceText(r) {
  if (r === null || r === undefined) return '—';
  if (typeof r.keyHex === 'string') {
    let key;
    try {
      const bytes = new Uint8Array(r.keyHex.match(/../g)?.map((x) => parseInt(x, 16)) ?? []);
      key = new TextDecoder('utf-8', { fatal: true }).decode(bytes);
    } catch {
      key = `hex:${r.keyHex}`;
    }
    return `${r.dataset ?? '?'}/${key}`;
  }
  if (typeof r.id === 'string') return `${r.type}:${r.id}`;
  return typeof r.dataset === 'string' ? `${r.type}:${r.dataset}` : String(r.type ?? '—');
}

function logRow(entry) {
  const l = entry.leaf ?? {};
  const detailId = `leaf-${entry.index}`;
  const detailRow = h(
    'tr',
    { class: 'leaf-detail', id: detailId, hidden: true },
    h('td', { colspan: 10 }, h('pre', { class: 'json', text: `${JSON.stringify(l, null, 2)}\n\nleaf hash ${entry.hash}` })),
  );
  const toggle = h(
    'button',
    { type: 'button', class: 'link', 'aria-expanded': 'false', 'aria-controls': detailId, title: `leaf hash ${entry.hash}` },
    `${String(entry.hash).slice(0, 10)}…`,
  );
  toggle.addEventListener('click', () => {
    const open = toggle.getAttribute('aria-expanded') !== 'true';
    toggle.setAttribute('aria-expanded', String(open));
    detailRow.hidden = !open;
  });
  const row = h(
    'tr',
    { 'data-index': entry.index },
    h('td', { class: 'num mono', text: String(entry.index) }),
    h('td', { class: 'mono nowrap', text: fmtTime(l.time) }),
    h('td', { class: 'mono', text: l.principal ?? '—' }),
    h('td', { text: l.team ?? '—' }),
    h('td', { class: 'mono', text: l.action ?? '—' }),
    h('td', {}, badge(l.decision ?? '?', DECISION_TONE[l.decision] ?? 'neutral')),
    h('td', { class: 'num', text: l.status === null || l.status === undefined ? '—' : String(l.status) }),
    h('td', { class: 'mono wrap', text: resourceText(l.resource) }),
    h('td', { class: 'num', text: fmtNum(l.bytes) }),
    h('td', {}, toggle),
  );
  return [row, detailRow];
}

function readLogFilters() {
  const f = new FormData($('log-filter'));
  const iso = (name) => {
    const v = String(f.get(name) ?? '');
    if (v === '') return undefined;
    const d = new Date(v);
    if (Number.isNaN(d.getTime())) throw new Error(`${name}: not a date and time`);
    return d.toISOString();
  };
  return {
    from: iso('from'),
    to: iso('to'),
    principal: String(f.get('principal') ?? '').trim(),
    team: String(f.get('team') ?? '').trim(),
    action: String(f.get('action') ?? '').trim(),
    decision: String(f.get('decision') ?? ''),
    limit: String(f.get('limit') ?? '50'),
  };
}

async function loadLog(cursor) {
  const seq = ++log.seq;
  const errEl = $('log-error');
  showError(errEl, null);
  $('panel-log').setAttribute('aria-busy', 'true');
  try {
    const data = await getJson(`/v1/audit${query({ ...log.params, cursor })}`);
    if (seq !== log.seq) return;
    log.cursor = cursor;
    log.next = data.nextCursor ?? null;
    const leaves = Array.isArray(data.leaves) ? data.leaves : [];
    $('log-rows').replaceChildren(...leaves.flatMap(logRow));
    $('log-caption').textContent =
      leaves.length === 0
        ? cursor === undefined
          ? 'No audit leaves match these filters.'
          : 'No more leaves.'
        : `Leaves #${leaves[0].index} – #${leaves[leaves.length - 1].index} (${leaves.length} shown${log.next === null ? ', end of log' : ''})`;
    $('log-next').disabled = log.next === null;
    $('log-first').disabled = cursor === undefined;
  } catch (err) {
    if (seq !== log.seq) return;
    $('log-rows').replaceChildren();
    $('log-caption').textContent = '';
    showError(errEl, err);
  } finally {
    if (seq === log.seq) $('panel-log').setAttribute('aria-busy', 'false');
  }
}

function applyLogFilters(event) {
  event?.preventDefault();
  try {
    log.params = readLogFilters();
  } catch (err) {
    showError($('log-error'), err);
    return;
  }
  void loadLog(undefined);
}

/* ---------------------------------------------------------------- artifacts */

const arts = { params: {}, next: null, seq: 0, openSeq: 0, openId: null };

function artifactRow(a) {
  const short = a.id.length > 16 ? `${a.id.slice(0, 13)}…` : a.id;
  const open = h(
    'button',
    { type: 'button', class: 'link mono', 'data-artifact': a.id, title: a.id, 'aria-label': `Open artifact ${a.id}` },
    short,
  );
  open.addEventListener('click', () => void openArtifact(a.id));
  return h(
    'tr',
    { 'data-id': a.id, 'aria-current': a.id === arts.openId ? 'true' : undefined },
    h('td', {}, open),
    h('td', { text: a.team }),
    h('td', { text: a.kind }),
    h('td', {}, badge(STATUS_TEXT[a.status] ?? String(a.status), STATUS_TONE[a.status] ?? 'neutral')),
    h('td', { class: 'num', text: fmtNum(a.bits) }),
    h('td', { class: 'mono nowrap', title: a.createdAt, text: fmtTime(a.createdAt).slice(0, 19) }),
  );
}

async function loadArtifacts(more) {
  const seq = ++arts.seq;
  const errEl = $('artifacts-error');
  showError(errEl, null);
  if (!more) {
    const f = new FormData($('artifact-filter'));
    arts.params = {
      status: String(f.get('status') ?? ''),
      kind: String(f.get('kind') ?? '').trim(),
      team: String(f.get('team') ?? '').trim(),
      limit: 50,
    };
  }
  try {
    const data = await getJson(`/v1/egress${query({ ...arts.params, cursor: more ? arts.next : undefined })}`);
    if (seq !== arts.seq) return;
    const list = Array.isArray(data.artifacts) ? data.artifacts : [];
    const rows = list.map(artifactRow);
    if (more) $('artifact-rows').append(...rows);
    else $('artifact-rows').replaceChildren(...rows);
    arts.next = data.nextCursor ?? null;
    $('artifacts-next').disabled = arts.next === null;
    const shown = $('artifact-rows').children.length;
    const status = arts.params.status === '' ? '' : `${STATUS_TEXT[arts.params.status] ?? arts.params.status} `;
    $('artifacts-caption').textContent =
      shown === 0
        ? `No ${status}artifacts.`
        : `${shown} ${status}${shown === 1 ? 'artifact' : 'artifacts'}${arts.next === null ? '' : ' (more available)'}`;
  } catch (err) {
    if (seq !== arts.seq) return;
    if (!more) $('artifact-rows').replaceChildren();
    $('artifacts-caption').textContent = '';
    showError(errEl, err);
  }
}

function fact(dl, label, value, cls) {
  dl.append(
    h('dt', { text: label }),
    h('dd', { class: cls, text: value === null || value === undefined || value === '' ? '—' : String(value) }),
  );
}

const MAX_SHOWN_CHARS = 500_000;

async function showContent(a, seq) {
  const msg = $('content-message');
  const pre = $('content');
  pre.hidden = true;
  pre.textContent = '';
  $('download-row').hidden = true;
  $('download-result').textContent = '';
  msg.textContent = '';
  if (a.status === 'released') {
    msg.textContent = 'Released: the download is exactly the bytes the release leaf hashes.';
    $('download-row').hidden = false;
    return;
  }
  if (a.status !== 'pending_review') {
    msg.textContent =
      a.status === 'rejected' ? 'Rejected: nothing was released.' : `Status ${STATUS_TEXT[a.status] ?? a.status}: no content to show.`;
    return;
  }
  msg.textContent = 'Loading the held (canonical) content…';
  try {
    const res = await api(`/v1/egress/${encodeURIComponent(a.id)}/held`);
    const type = res.headers.get('content-type') ?? '';
    if (!/^text\/plain\b/i.test(type)) {
      if (seq === arts.openSeq) msg.textContent = `The held content is ${type || 'of an unknown type'}: not shown as text.`;
      return;
    }
    const text = new TextDecoder('utf-8').decode(await res.arrayBuffer());
    if (seq !== arts.openSeq) return;
    const cut = text.length > MAX_SHOWN_CHARS;
    pre.textContent = cut ? text.slice(0, MAX_SHOWN_CHARS) : text;
    pre.hidden = false;
    msg.textContent = `Canonical content as it would leave (${fmtNum(a.bytes)} bytes${cut ? `; the first ${nf.format(MAX_SHOWN_CHARS)} characters shown` : ''}):`;
  } catch (err) {
    if (seq !== arts.openSeq) return;
    if (err?.status === 415)
      msg.textContent = `Opaque artifact (kind ${a.kind}): its bytes are not shown as text; it can be downloaded only after release. The gateway says: ${err.message}`;
    else msg.textContent = `The held content is not available: ${err instanceof Error ? err.message : String(err)}`;
  }
}

function renderArtifact({ artifact: a, reviews }, seq) {
  arts.openId = a.id;
  for (const tr of $('artifact-rows').children) {
    if (tr.getAttribute('data-id') === a.id) tr.setAttribute('aria-current', 'true');
    else tr.removeAttribute('aria-current');
  }
  $('artifact').hidden = false;
  $('artifact-title').textContent = a.id;
  const st = $('artifact-status');
  setBadge(st, STATUS_TEXT[a.status] ?? String(a.status), STATUS_TONE[a.status] ?? 'neutral');

  const dl = $('artifact-facts');
  dl.replaceChildren();
  fact(dl, 'Team', a.team);
  fact(dl, 'Job', a.jobId, 'mono');
  fact(dl, 'Kind', a.kind);
  fact(dl, 'Information', `${fmtNum(a.bits)} bits`);
  fact(dl, 'Submitted', `${fmtNum(a.submittedBytes)} bytes`);
  fact(dl, 'Submitted SHA-256', a.submittedSha256, 'mono wrap');
  fact(dl, 'Canonical', a.bytes === null || a.bytes === undefined ? null : `${fmtNum(a.bytes)} bytes`);
  fact(dl, 'Canonical SHA-256', a.sha256, 'mono wrap');
  fact(dl, 'Submitted at', a.createdAt ? `${fmtTime(a.createdAt)} UTC` : null, 'mono');
  fact(dl, 'Decided at', a.decidedAt ? `${fmtTime(a.decidedAt)} UTC` : null, 'mono');
  fact(dl, 'Audit leaf', a.auditIndex === null || a.auditIndex === undefined ? null : `#${a.auditIndex}`, 'mono');

  const reasons = Array.isArray(a.reasons) ? a.reasons : [];
  $('artifact-reasons').hidden = reasons.length === 0;
  $('artifact-reasons-list').replaceChildren(
    ...reasons.map((r) => h('li', {}, h('code', { text: r.code }), ` ${r.line === undefined ? '' : `line ${r.line}: `}${r.message}`)),
  );

  const rv = Array.isArray(reviews) ? reviews : [];
  $('reviews').hidden = rv.length === 0;
  $('reviews-empty').hidden = rv.length > 0;
  $('review-rows').replaceChildren(
    ...rv.map((r) =>
      h(
        'tr',
        {},
        h('td', { class: 'mono', text: r.reviewer }),
        h('td', {}, badge(r.decision, r.decision === 'approve' ? 'ok' : 'bad')),
        h('td', { class: 'wrap', text: r.comment }),
        h('td', { class: 'mono nowrap', text: fmtTime(r.createdAt) }),
      ),
    ),
  );

  const mine = rv.find((r) => r.reviewer === `user:${me?.sub}`);
  const form = $('review-form');
  const done = $('review-done');
  showError($('review-error'), null);
  if (a.status === 'pending_review' && mine === undefined) {
    form.hidden = false;
    done.hidden = true;
  } else {
    form.hidden = true;
    done.hidden = mine === undefined;
    if (mine !== undefined) {
      const approvals = rv.filter((r) => r.decision === 'approve').length;
      done.textContent =
        a.status === 'pending_review'
          ? `You ${mine.decision === 'approve' ? 'approved' : 'rejected'} this artifact (${approvals} of 2 approvals): a second compliance officer must review it.`
          : `You ${mine.decision === 'approve' ? 'approved' : 'rejected'} this artifact; it is now ${STATUS_TEXT[a.status] ?? a.status}.`;
    }
  }
  void showContent(a, seq);
}

async function openArtifact(id) {
  const seq = ++arts.openSeq;
  showError($('artifacts-error'), null);
  try {
    const data = await getJson(`/v1/egress/${encodeURIComponent(id)}`);
    if (seq !== arts.openSeq) return;
    $('review-comment').value = '';
    renderArtifact(data, seq);
    $('artifact-title').focus({ preventScroll: true });
    $('artifact').scrollIntoView({ block: 'nearest' });
  } catch (err) {
    if (seq === arts.openSeq) showError($('artifacts-error'), err);
  }
}

async function submitReview(event) {
  event.preventDefault();
  const id = arts.openId;
  if (id === null) return;
  const decision = event.submitter?.value;
  const comment = $('review-comment').value.trim();
  const errEl = $('review-error');
  showError(errEl, null);
  if (decision !== 'approve' && decision !== 'reject') return;
  if (comment === '') {
    showError(errEl, new Error('A comment is required: say what you checked.'));
    $('review-comment').focus();
    return;
  }
  const buttons = $('review-form').querySelectorAll('button');
  for (const b of buttons) b.disabled = true;
  try {
    const res = await api(`/v1/egress/${encodeURIComponent(id)}/reviews`, { method: 'POST', json: { decision, comment } });
    const data = await res.json();
    const seq = ++arts.openSeq;
    $('review-comment').value = '';
    renderArtifact(data, seq);
    void loadArtifacts(false);
  } catch (err) {
    showError(errEl, err);
  } finally {
    for (const b of buttons) b.disabled = false;
  }
}

function safeFilename(res, fallback) {
  const cd = res.headers.get('content-disposition') ?? '';
  const m = /filename="([^"]+)"/.exec(cd);
  return (m === null ? fallback : m[1]).replace(/[^A-Za-z0-9._-]/g, '_');
}

async function download() {
  const id = arts.openId;
  if (id === null) return;
  const out = $('download-result');
  out.textContent = 'Downloading…';
  try {
    const res = await api(`/v1/egress/${encodeURIComponent(id)}/content`);
    const blob = await res.blob();
    const digest = bytesToHex(new Uint8Array(await crypto.subtle.digest('SHA-256', await blob.arrayBuffer())));
    const expected = res.headers.get('x-cage-sha256');
    const name = safeFilename(res, id);
    const url = URL.createObjectURL(blob);
    const a = h('a', { href: url, download: name, hidden: true });
    document.body.append(a);
    a.click();
    a.remove();
    setTimeout(() => URL.revokeObjectURL(url), 60_000);
    out.textContent =
      expected === null
        ? `Saved ${name}: ${nf.format(blob.size)} bytes, SHA-256 ${digest}.`
        : digest === expected
          ? `Saved ${name}: ${nf.format(blob.size)} bytes; SHA-256 ${digest} matches the release leaf.`
          : `Saved ${name}, but its SHA-256 ${digest} does NOT match the release leaf’s ${expected}.`;
  } catch (err) {
    out.textContent = `Download failed: ${err instanceof Error ? err.message : String(err)}`;
  }
}

/* -------------------------------------------------------------- leaderboard */

const board = { seq: 0 };

/** The competition's board: the public part (the Ladder's scores), and the private ranking once closed. */
async function loadLeaderboard() {
  const seq = ++board.seq;
  showError($('lb-error'), null);
  $('lb-state').textContent = '…';
  try {
    const b = await getJson('/v1/leaderboard');
    if (seq !== board.seq) return;
    $('lb-state').textContent = b.closed ? 'closed' : 'open';
    $('lb-state').className = `badge ${b.closed ? 'ok' : ''}`;
    $('lb-caption').textContent = `${b.competition}: ${b.metric}, Ladder step ${b.ladderStep}${b.closed ? `; closed ${b.closedAt}` : ''}`;
    const rows = (list, withCount) =>
      list.map((r) =>
        h(
          'tr',
          {},
          h('td', { class: 'num', text: String(r.rank) }),
          h('td', { text: r.team }),
          h('td', { class: 'num mono', text: String(r.score) }),
          ...(withCount ? [h('td', { class: 'num', text: nf.format(r.submissions) })] : []),
        ),
      );
    $('lb-public').replaceChildren(...rows(b.public, true));
    $('lb-private-section').hidden = b.private === null;
    $('lb-private').replaceChildren(...rows(b.private ?? [], false));
  } catch (err) {
    if (seq !== board.seq) return;
    $('lb-state').textContent = 'unavailable';
    showError($('lb-error'), err);
  }
}

/* ------------------------------------------------------------------- layout */

const TABS = ['log', 'artifacts', 'leaderboard'];

function selectTab(which) {
  for (const name of TABS) {
    const on = name === which;
    const tab = $(`tab-${name}`);
    tab.setAttribute('aria-selected', String(on));
    tab.tabIndex = on ? 0 : -1;
    $(`panel-${name}`).hidden = !on;
  }
  if (which === 'leaderboard') void loadLeaderboard();
}

function resetViews() {
  log.seq++;
  board.seq++;
  $('lb-public').replaceChildren();
  $('lb-private').replaceChildren();
  arts.seq++;
  arts.openSeq++;
  arts.openId = null;
  log.params = {};
  $('log-filter').reset();
  $('artifact-filter').reset();
  $('log-rows').replaceChildren();
  $('log-caption').textContent = '';
  $('artifact-rows').replaceChildren();
  $('artifacts-caption').textContent = '';
  $('artifact').hidden = true;
  $('content').textContent = '';
  $('review-comment').value = '';
  $('cp-details').hidden = true;
  $('cp-message').textContent = '';
  for (const id of ['log-error', 'artifacts-error', 'review-error', 'signin-error']) showError($(id), null);
  selectTab('log');
}

function init() {
  $('signin-form').addEventListener('submit', (e) => void signIn(e));
  $('sign-out').addEventListener('click', () => signOut('Signed out.'));
  $('cp-refresh').addEventListener('click', () => void loadCheckpoint());
  $('log-filter').addEventListener('submit', applyLogFilters);
  $('log-filter').addEventListener('reset', () =>
    setTimeout(() => {
      if (me !== null) applyLogFilters();
    }, 0),
  );
  $('log-next').addEventListener('click', () => void loadLog(log.next ?? undefined));
  $('log-first').addEventListener('click', () => void loadLog(undefined));
  $('artifact-filter').addEventListener('submit', (e) => {
    e.preventDefault();
    void loadArtifacts(false);
  });
  $('artifacts-next').addEventListener('click', () => void loadArtifacts(true));
  $('review-form').addEventListener('submit', (e) => void submitReview(e));
  $('review-comment').addEventListener('input', () => showError($('review-error'), null));
  $('download').addEventListener('click', () => void download());
  $('lb-refresh').addEventListener('click', () => void loadLeaderboard());
  for (const [i, name] of TABS.entries()) {
    const tab = $(`tab-${name}`);
    tab.addEventListener('click', () => selectTab(name));
    tab.addEventListener('keydown', (e) => {
      if (e.key !== 'ArrowLeft' && e.key !== 'ArrowRight') return;
      const other = TABS[(i + (e.key === 'ArrowRight' ? 1 : TABS.length - 1)) % TABS.length];
      selectTab(other);
      $(`tab-${other}`).focus();
    });
  }
  onUnauthorized((err) => signOut(`Your token was refused (${err.message}); sign in again.`));

  const token = getToken();
  if (token === null) {
    showSignedOut();
    return;
  }
  try {
    showSignedIn(decodeJwt(token));
  } catch {
    signOut('The stored token was unreadable; sign in again.');
  }
}

init();
