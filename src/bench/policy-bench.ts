import { join } from 'node:path';
import { CedarPolicyEngine } from '../policy/cedar-policy.engine';
import { loadPolicyFiles } from '../policy/policy-files';
import { type DecisionRequest, type GrantRule, type TeamGrants } from '../policy/policy.types';
import { type FigureResult, type RowId } from './report';
import { type Distribution, distribution, fmt, nowNs, nsToUs } from './stats';

/**
 * Figure 1: one policy decision in-process, entities included (CedarPolicyEngine.decide as the
 * data plane calls it), over the real ./policies. Measured for a team with a few grants, first
 * alone, then with 3,000 other teams prepared in the same engine: the engine slices policies per
 * team, so the second figure should match the first.
 */

export const POLICY_ROW: RowId = {
  id: 'policy-decision',
  figure: '1. policy decision, in-process, entities incl.',
  target: 'p50 ≤ 30 µs, p99 ≤ 150 µs',
};

const POLICY_DIR = join(__dirname, '..', '..', 'policies');
const OTHER_TEAMS = 3000;
const WARMUP = 5000;
const SAMPLES = 20_000;

function grantsOf(team: string, grants: GrantRule[]): TeamGrants {
  return {
    team,
    fingerprint: grants.map((g) => `${g.id}:${g.dataset}/${g.split}:${g.notBefore.getTime()}:${g.notAfter.getTime()}`).join(','),
    grants,
  };
}

function teamGrants(team: string, splits: [string, string][], notBefore: Date, notAfter: Date): TeamGrants {
  return grantsOf(
    team,
    splits.map(([dataset, split], i) => ({ id: `g-${team}-${i}`, team, dataset, split, notBefore, notAfter })),
  );
}

/** The data plane's mix: reads of distinct keys in granted splits, a denied labels read, a list. */
function requests(team: string, now: Date): DecisionRequest[] {
  const principal = { type: 'Job' as const, id: `job-${team}`, team };
  const out: DecisionRequest[] = [];
  for (let i = 0; i < 64; i++) {
    const split = i % 2 === 0 ? { name: 'train', kind: 'train' as const } : { name: 'test', kind: 'test' as const };
    const resource = { type: 'Object' as const, dataset: 'lung', split, key: `${split.name}/scan-${i}.raw`, manifest: 'none' as const };
    // Each read is decided twice: before the store is asked (no bytes yet), and with the size
    // the store answered (a distinct size per object).
    out.push({ principal, action: 'read', resource, listener: 'sandbox', now, context: { bytes: 0 } });
    out.push({ principal, action: 'read', resource, listener: 'sandbox', now, context: { bytes: 65536 + 512 * i } });
  }
  out.push({
    principal,
    action: 'read',
    resource: { type: 'Object', dataset: 'lung', split: { name: 'labels', kind: 'labels' }, key: 'labels/test.csv', manifest: 'none' },
    listener: 'sandbox',
    now,
    context: { bytes: 65536 },
  });
  out.push({
    principal,
    action: 'list',
    resource: { type: 'Split', dataset: 'lung', split: 'train', kind: 'train' },
    listener: 'sandbox',
    now,
  });
  return out;
}

/** `cedar`: every decision evaluated by Cedar (the cache bypassed), as before issue 20. */
function measure(
  engine: CedarPolicyEngine,
  reqs: DecisionRequest[],
  grants: TeamGrants,
  cedar = false,
): { dist: Distribution; allowed: number } {
  const decide = cedar ? (r: DecisionRequest) => engine.evaluate(r, grants) : (r: DecisionRequest) => engine.decide(r, grants);
  for (let i = 0; i < WARMUP; i++) decide(reqs[i % reqs.length]);
  const samples = new Array<number>(SAMPLES);
  let allowed = 0;
  for (let i = 0; i < SAMPLES; i++) {
    const req = reqs[i % reqs.length];
    const t0 = nowNs();
    const d = decide(req);
    samples[i] = nowNs() - t0;
    if (d.decision === 'allow') allowed += 1;
  }
  return { dist: distribution(samples.map(nsToUs)), allowed };
}

export function policyFigure(): FigureResult {
  const now = new Date();
  const notBefore = new Date(now.getTime() - 3600_000);
  const notAfter = new Date(now.getTime() + 3600_000);
  const engine = new CedarPolicyEngine(loadPolicyFiles(POLICY_DIR), now);
  const team = 'bench';
  const grants = teamGrants(
    team,
    [
      ['lung', 'train'],
      ['lung', 'test'],
      ['lung', 'val'],
      ['brain', 'train'],
    ],
    notBefore,
    notAfter,
  );
  const reqs = requests(team, now);

  const alone = measure(engine, reqs, grants);

  const t0 = nowNs();
  for (let t = 0; t < OTHER_TEAMS; t++) {
    const other = `team-${t}`;
    const g = teamGrants(
      other,
      [
        ['lung', 'train'],
        ['brain', t % 2 === 0 ? 'test' : 'train'],
      ],
      notBefore,
      notAfter,
    );
    engine.decide(requests(other, now)[0], g);
  }
  const prepareMs = (nowNs() - t0) / 1e6;
  const crowded = measure(engine, reqs, grants);
  const cedarOnly = measure(engine, reqs, grants, true);
  const { hits, misses } = engine.cacheStats;

  // Expected: every read of train/test allowed, labels read denied, list of train allowed.
  const expectedAllowed = Math.round((SAMPLES * (reqs.length - 1)) / reqs.length);
  const correct = Math.abs(crowded.allowed - expectedAllowed) <= 1 && cedarOnly.allowed === crowded.allowed;
  const d = crowded.dist;
  return {
    ...POLICY_ROW,
    measured: `p50 ${fmt(d.p50, 1)} µs, p99 ${fmt(d.p99, 1)} µs (${SAMPLES.toLocaleString('en-US')} decisions, ${OTHER_TEAMS.toLocaleString('en-US')} other teams)`,
    direct:
      `1 team alone: p50 ${fmt(alone.dist.p50, 1)} µs; Cedar every time (no cache): p50 ${fmt(cedarOnly.dist.p50, 1)} µs, ` +
      `p99 ${fmt(cedarOnly.dist.p99, 1)} µs; cache hits ${((100 * hits) / Math.max(1, hits + misses)).toFixed(1)} %`,
    pass: correct && d.p50 <= 30 && d.p99 <= 150,
    values: {
      unit: 'µs',
      samples: SAMPLES,
      otherTeams: OTHER_TEAMS,
      p50: d.p50,
      p90: d.p90,
      p99: d.p99,
      max: d.max,
      mean: d.mean,
      aloneP50: alone.dist.p50,
      aloneP99: alone.dist.p99,
      cedarP50: cedarOnly.dist.p50,
      cedarP99: cedarOnly.dist.p99,
      cacheHits: hits,
      cacheMisses: misses,
      prepareOtherTeamsMs: prepareMs,
      decisionsCorrect: correct ? 'yes' : `no: ${crowded.allowed} allowed, expected ${expectedAllowed}`,
    },
  };
}
