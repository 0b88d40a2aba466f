import { z } from 'zod';
import { CedarPolicyEngine } from './cedar-policy.engine';
import { type PolicyFiles } from './policy-files';
import { type DecisionRequest, type PolicyCategory, type PolicyDecision } from './policy.types';

/**
 * Policy expectations (`policies/tests/*.json`): requests with the answer they must get, such
 * as "team A cannot read team B's grant" or "no job reads test labels". A candidate policy set
 * is evaluated against every expectation before it may become active; one failure blocks it.
 */
const grant = z
  .object({
    team: z.string(),
    dataset: z.string(),
    split: z.string(),
    notBefore: z.string().datetime().optional(),
    notAfter: z.string().datetime().optional(),
  })
  .strict();
// A person's `team` is their token's; `teams` the further teams they are or were affiliated with
// (for a review: member, former member, creator of one of its jobs).
const principal = z.union([
  z.object({ job: z.string(), team: z.string() }).strict(),
  z.object({ user: z.string(), role: z.string(), team: z.string().optional(), teams: z.array(z.string()).default([]) }).strict(),
]);
// `manifest` is what the dataset's manifest says of the object; a dataset that was not ingested has none.
const objectResource = z
  .object({
    dataset: z.string(),
    split: z.string().nullable(),
    kind: z.enum(['train', 'val', 'test', 'labels']),
    key: z.string(),
    manifest: z.enum(['none', 'listed', 'mismatch', 'absent']).default('none'),
  })
  .strict();
const splitResource = z.object({ dataset: z.string(), split: z.string(), kind: z.enum(['train', 'val', 'test', 'labels']) }).strict();
const artifactResource = z.object({ artifact: z.string(), kind: z.string(), team: z.string().optional() }).strict();
const teamResource = z.object({ team: z.string() }).strict();
const expectation = z
  .object({
    name: z.string().min(1),
    grants: z.array(grant).default([]),
    request: z
      .object({
        principal,
        action: z.enum(['list', 'read', 'egress', 'review', 'release', 'authenticate']),
        resource: z.union([objectResource, splitResource, artifactResource, teamResource]),
        listener: z.enum(['sandbox', 'control']).default('sandbox'),
        now: z.string().datetime().optional(),
        context: z.record(z.union([z.string(), z.number().int()])).optional(),
      })
      .strict(),
    expect: z.enum(['allow', 'deny']),
  })
  .strict();
const file = z.object({ expectations: z.array(expectation) }).strict();

export interface ExpectationResult {
  name: string;
  passed: boolean;
  message: string;
}

export class ExpectationFileError extends Error {}

/**
 * Rules the gateway enforced in code before they were policy, which every set must keep,
 * whatever its own tests say (they ship with the set and can be dropped with it): asked of the
 * candidate set as decisions, not as the presence of a policy, so a forbid that never fires, a
 * second permit for reads outside the grants, or one approval releasing fails the set.
 */
function builtInExpectations(engine: CedarPolicyEngine): ExpectationResult[] {
  const now = new Date();
  const team = '\u0000built-in team';
  const job = { type: 'Job' as const, id: '\u0000built-in job', team };
  const grant = {
    id: 'built-in',
    team,
    dataset: 'ds',
    split: 'train',
    notBefore: new Date(now.getTime() - 3600_000),
    notAfter: new Date(now.getTime() + 3600_000),
  };
  const granted = { team, fingerprint: 'built-in:granted', grants: [grant] };
  const none = { team, fingerprint: 'built-in:none', grants: [] };
  const read = (manifest: 'none' | 'listed' | 'absent' | 'mismatch', context: Record<string, number>): DecisionRequest => ({
    principal: job,
    action: 'read',
    resource: { type: 'Object', dataset: 'ds', split: { name: 'train', kind: 'train' }, key: 'train/a.raw', manifest },
    listener: 'sandbox',
    now,
    context,
  });
  const cases: { name: string; decide: () => PolicyDecision; category?: PolicyCategory }[] = [
    {
      name: "no read goes past a grant's byte quota",
      decide: () => engine.decide(read('none', { bytes: 1, quotaRemaining: 0 }), granted),
      category: 'quota',
    },
    {
      name: 'an object an ingested dataset does not list is not served',
      decide: () => engine.decide(read('absent', { bytes: 1 }), granted),
      category: 'manifest',
    },
    {
      name: 'an object that differs from its manifest entry is not served',
      decide: () => engine.decide(read('mismatch', { bytes: 1 }), granted),
      category: 'manifest',
    },
    { name: 'only a grant lets a job read', decide: () => engine.decide(read('listed', { bytes: 1 }), none) },
    {
      name: 'nothing leaves over the daily bits',
      decide: () =>
        engine.decide(
          {
            principal: job,
            action: 'egress',
            resource: { type: 'Artifact', id: 'built-in', kind: 'metrics' },
            listener: 'sandbox',
            now,
            context: {
              kind: 'metrics',
              payload: 'bearer',
              bytes: 1,
              bits: 2,
              bitsToday: 0,
              submissionsToday: 0,
              dailyBits: 1,
              dailySubmissions: 100,
            },
          },
          none,
        ),
      category: 'budget',
    },
    {
      name: 'one approval releases nothing',
      decide: () =>
        engine.decide({
          principal: { type: 'User', id: '\u0000built-in officer', role: 'auditor', teams: [] },
          action: 'release',
          resource: { type: 'Artifact', id: 'built-in', kind: 'model', team },
          listener: 'control',
          now,
          context: { approvals: 1 },
        }),
    },
  ];
  return cases.map(({ name, decide, category }) => {
    const d = decide();
    const passed = d.decision === 'deny' && (category === undefined || d.categories.includes(category));
    return {
      name: `every set: ${name}`,
      passed,
      message: passed
        ? 'deny as required'
        : d.decision === 'allow'
          ? `allowed${d.policies.length > 0 ? ` (by ${d.policies.join(', ')})` : ''}`
          : `denied, but by no forbid of @category("${category}")`,
    };
  });
}

/** Runs every expectation in `files.tests` against the candidate set, and the ones every set has. */
export function checkExpectations(files: PolicyFiles): ExpectationResult[] {
  const engine = new CedarPolicyEngine(files, new Date(), 'expectations');
  const results: ExpectationResult[] = builtInExpectations(engine);
  for (const [name, text] of files.tests ?? new Map<string, string>()) {
    let parsed: z.infer<typeof file>;
    try {
      parsed = file.parse(JSON.parse(text));
    } catch (err) {
      throw new ExpectationFileError(
        `tests/${name}: ${err instanceof z.ZodError ? err.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ') : 'not JSON'}`,
      );
    }
    for (const e of parsed.expectations) {
      const now = new Date(e.request.now ?? Date.now());
      const p = e.request.principal;
      const r = e.request.resource;
      const teams = 'job' in p ? [p.team] : [...new Set([...(p.team === undefined ? [] : [p.team]), ...p.teams])];
      if ('user' in p && 'artifact' in r && r.team === undefined)
        throw new ExpectationFileError(`tests/${name}: ${e.name}: an artifact a person is asked about names its team`);
      const grants = e.grants.map((g, i) => ({
        id: `expectation-${i}`,
        team: g.team,
        dataset: g.dataset,
        split: g.split,
        notBefore: new Date(g.notBefore ?? now.getTime() - 3600_000),
        notAfter: new Date(g.notAfter ?? now.getTime() + 3600_000),
      }));
      const req: DecisionRequest = {
        principal: 'job' in p ? { type: 'Job', id: p.job, team: p.team } : { type: 'User', id: p.user, role: p.role, teams },
        action: e.request.action,
        resource:
          'artifact' in r
            ? { type: 'Artifact', id: r.artifact, kind: r.kind, ...(r.team === undefined ? {} : { team: r.team }) }
            : !('kind' in r)
              ? { type: 'Team', id: r.team }
              : 'key' in r
                ? {
                    type: 'Object',
                    dataset: r.dataset,
                    split: r.split === null ? null : { name: r.split, kind: r.kind },
                    key: r.key,
                    manifest: r.manifest,
                  }
                : { type: 'Split', dataset: r.dataset, split: r.split, kind: r.kind },
        listener: e.request.listener,
        now,
        context: contextOf(e.request.action, r, e.request.context),
      };
      // As the gateway asks: with the grants of the principal's (first) team, except a review, a
      // release or an authentication, which the policy files alone decide.
      const team = teams[0];
      const d =
        e.request.action === 'review' || e.request.action === 'release' || e.request.action === 'authenticate' || team === undefined
          ? engine.decide(req)
          : engine.decide(req, { team, fingerprint: `expectation:${e.name}`, grants: grants.filter((g) => g.team === team) });
      const passed = d.decision === e.expect;
      results.push({
        name: e.name,
        passed,
        message: passed
          ? `${e.expect} as expected`
          : `expected ${e.expect}, got ${d.decision}${d.policies.length > 0 ? ` (by ${d.policies.join(', ')})` : ''}`,
      });
    }
  }
  return results;
}

/**
 * The context as the gateway gives it: an egress names its kind; a read that says nothing of its
 * bytes carries none (a HEAD), so an expectation about a quota gives `bytes` and `quotaRemaining`.
 */
function contextOf(
  action: DecisionRequest['action'],
  r: { kind: string } | { team: string },
  context: Record<string, string | number> | undefined,
): Record<string, string | number> | undefined {
  if (action === 'egress' && 'artifact' in r && 'kind' in r) return { kind: r.kind, ...context };
  if (action === 'read') return { bytes: 0, ...context };
  return context;
}
