import * as cedar from '@cedar-policy/cedar-wasm/nodejs';
import { DecisionCache, policyReads } from './decision-cache';
import { type PolicyFiles, PolicyLoadError } from './policy-files';
import {
  type ActivePolicySet,
  type DecisionRequest,
  type GrantRule,
  grantPolicyId,
  POLICY_CATEGORIES,
  type PolicyCategory,
  type PolicyDecision,
  PolicyEngine,
  type TeamGrants,
} from './policy.types';

const NS = 'Cage';
const ACTIONS = ['list', 'read'] as const;

/**
 * Cedar, in-process as WebAssembly. Policy text is parsed once per (policy files, team grants)
 * pair and kept inside the wasm module under a preparsed id, so a decision costs building a
 * handful of entities and one evaluation.
 *
 * Each grant becomes one permit `grant:<id>`. It is rendered as a static policy rather than a
 * linked template because Cedar template slots cover only the scope, and a grant's time window
 * is a condition; the permit is built as Cedar JSON from typed fields, so no grant field is ever
 * spliced into policy text. Policies are sliced per team: a decision for team T is evaluated
 * against the files plus T's grants only, so its cost does not grow with the number of teams.
 * A decision without grants (a person reviewing or releasing an airlock artifact) is evaluated
 * against the files alone.
 *
 * A forbid may say what kind of refusal it is (`@category("quota")`); a decision reports the
 * categories of the policies that determined it, so services answer a denial by its kind and
 * never by a policy id. Categories are read when a set is loaded, and an unknown one refuses it.
 */
export class CedarPolicyEngine extends PolicyEngine {
  private files: PolicyFiles;
  /** Policy id → its `@category`, for the policies of the files that declare one. */
  private categories: Map<string, PolicyCategory>;
  private activeSet: ActivePolicySet;
  private generation = 0;
  /** team → fingerprint of the preparsed set for it (files generation + grants). */
  private readonly prepared = new Map<string, string>();
  /** Files generation of the preparsed files-only set; -1 before the first. */
  private filesPrepared = -1;
  private cache: DecisionCache;

  /** `namespace` keeps the preparsed sets of two engines in one process apart (expectations). */
  constructor(
    files: PolicyFiles,
    activatedAt: Date,
    private readonly namespace = 'active',
    version = 1,
  ) {
    super();
    this.files = files;
    this.categories = categoriesOf(files.policies);
    this.cache = new DecisionCache(policyReads(files.policies));
    this.activeSet = { sha256: files.sha256, version, activatedAt, activatedBy: 'policy-dir', files: files.files };
  }

  /** Decisions answered from memory and decisions evaluated, since the active set was activated. */
  get cacheStats(): { hits: number; misses: number } {
    return { hits: this.cache.hits, misses: this.cache.misses };
  }

  get active(): ActivePolicySet {
    return this.activeSet;
  }

  /** Policy id → the `@category` it declares, for the active set's policies that declare one. */
  get categoryOf(): ReadonlyMap<string, PolicyCategory> {
    return this.categories;
  }

  get egress(): { kinds: PolicyFiles['egressKinds']; budget: PolicyFiles['budget'] } {
    return { kinds: this.files.egressKinds, budget: this.files.budget };
  }

  /** Swaps in a new, already validated set; teams' sets are re-prepared on their next decision. */
  activate(files: PolicyFiles, at: Date, version = this.activeSet.version + 1, by = 'policy-dir'): ActivePolicySet {
    const categories = categoriesOf(files.policies);
    const cache = new DecisionCache(policyReads(files.policies));
    this.files = files;
    this.categories = categories;
    this.cache = cache;
    this.generation += 1;
    this.prepared.clear();
    this.activeSet = { sha256: files.sha256, version, activatedAt: at, activatedBy: by, files: files.files };
    return this.activeSet;
  }

  /**
   * Decides one request: from the decision cache when an equal one (by everything the policies
   * can read of it, see DecisionCache) was decided under the same set and grants, else by Cedar.
   */
  decide(req: DecisionRequest, grants?: TeamGrants): PolicyDecision {
    if (grants !== undefined && !teamsOf(req.principal).includes(grants.team)) throw new Error('grants of another team passed to decide()');
    const key = this.cache.keyOf(this.generation, req, grants);
    if (key === undefined) return this.evaluate(req, grants);
    return this.cache.get(key) ?? this.cache.set(key, this.evaluate(req, grants));
  }

  /** Decides one request by Cedar, without the cache. */
  evaluate(req: DecisionRequest, grants?: TeamGrants): PolicyDecision {
    const setId = grants === undefined ? this.prepareFiles() : this.prepare(grants);
    const answer = cedar.statefulIsAuthorized({
      principal: { type: `${NS}::${req.principal.type}`, id: req.principal.id },
      action: { type: `${NS}::Action`, id: req.action },
      resource: resourceUid(req),
      context: { ...req.context, listener: req.listener, now: req.now.getTime() },
      preparsedPolicySetId: setId,
      entities: entitiesFor(req),
    });
    if (answer.type === 'failure') {
      // Malformed request: deny, and say why in the errors the caller logs.
      return { decision: 'deny', policies: [], categories: [], policySet: this.files.sha256, errors: answer.errors.map((e) => e.message) };
    }
    const { decision, diagnostics } = answer.response;
    const categories = new Set<PolicyCategory>();
    for (const id of diagnostics.reason) {
      const c = this.categories.get(id);
      if (c !== undefined) categories.add(c);
    }
    // Cedar skips a policy whose evaluation errors; a skipped forbid must not turn into an allow.
    return {
      decision: diagnostics.errors.length > 0 ? 'deny' : decision,
      // Sorted: Cedar reports them in no fixed order, and a leaf should not depend on it.
      policies: [...diagnostics.reason].sort(),
      categories: [...categories].sort(),
      policySet: this.files.sha256,
      errors: diagnostics.errors.map((e) => `${e.policyId}: ${e.error.message}`),
    };
  }

  private prepare(grants: TeamGrants): string {
    const setId = `${this.namespace}:team:${grants.team}`;
    const fingerprint = `${this.generation}:${grants.fingerprint}`;
    if (this.prepared.get(grants.team) === fingerprint) return setId;
    const staticPolicies: Record<string, cedar.Policy> = { ...this.files.policies };
    for (const g of grants.grants) staticPolicies[grantPolicyId(g.id)] = grantPolicy(g);
    this.prepared.delete(grants.team);
    preparse(setId, staticPolicies, `team ${grants.team}`);
    this.prepared.set(grants.team, fingerprint);
    return setId;
  }

  private prepareFiles(): string {
    const setId = `${this.namespace}:files`;
    if (this.filesPrepared === this.generation) return setId;
    this.filesPrepared = -1;
    preparse(setId, { ...this.files.policies }, 'the policy files alone');
    this.filesPrepared = this.generation;
    return setId;
  }
}

/**
 * The `@category` of each policy that declares one. Only a forbid has one (it names a kind of
 * refusal), and only one the gateway knows: a typo would turn a budget refusal, which must say
 * nothing, into one that gives reasons.
 */
function categoriesOf(policies: Record<string, string>): Map<string, PolicyCategory> {
  const out = new Map<string, PolicyCategory>();
  for (const [id, text] of Object.entries(policies)) {
    const parsed = cedar.policyToJson(text);
    if (parsed.type === 'failure') throw new PolicyLoadError(`${id}: ${parsed.errors.map((e) => e.message).join('; ')}`);
    const annotations: Record<string, string | null> = parsed.json.annotations ?? {};
    if (!('category' in annotations)) continue;
    const category = annotations.category;
    if (!POLICY_CATEGORIES.some((c) => c === category))
      throw new PolicyLoadError(`${id}: unknown @category ${JSON.stringify(category)} (known: ${POLICY_CATEGORIES.join(', ')})`);
    if (parsed.json.effect !== 'forbid') throw new PolicyLoadError(`${id}: only a forbid declares a @category (a kind of refusal)`);
    out.set(id, category as PolicyCategory);
  }
  return out;
}

function preparse(setId: string, staticPolicies: Record<string, cedar.Policy>, what: string): void {
  const result = cedar.preparsePolicySet(setId, { staticPolicies });
  if (result.type === 'failure')
    throw new PolicyLoadError(`cannot prepare policies for ${what}: ${result.errors.map((e) => e.message).join('; ')}`);
}

/** The teams a principal is in, as Cedar parents: a job's one team, a person's affiliations. */
function teamsOf(p: DecisionRequest['principal']): string[] {
  return p.type === 'Job' ? [p.team] : p.teams;
}

const uid = (type: string, id: string) => ({ type: `${NS}::${type}`, id });
const ref = (type: string, id: string) => ({ __entity: uid(type, id) });
const splitId = (dataset: string, split: string) => `${dataset}/${split}`;

function resourceUid(req: DecisionRequest) {
  const r = req.resource;
  switch (r.type) {
    case 'Split':
      return uid('Split', splitId(r.dataset, r.split));
    case 'Object':
      return uid('Object', `${r.dataset}/${r.key}`);
    case 'Artifact':
      return uid('Artifact', r.id);
    case 'Team':
      return uid('Team', r.id);
  }
}

/**
 * The entities one decision needs, and no more (each costs time in the WebAssembly boundary):
 * the principal with its teams as parents, and the resource with its ancestors as parents. Team
 * and Dataset have no attributes, so they need no entity of their own.
 */
function entitiesFor(req: DecisionRequest): cedar.EntityJson[] {
  const r = req.resource;
  const p = req.principal;
  const parents = teamsOf(p).map((t) => uid('Team', t));
  const principal: cedar.EntityJson =
    p.type === 'Job' ? { uid: uid('Job', p.id), attrs: {}, parents } : { uid: uid('User', p.id), attrs: { role: p.role }, parents };
  switch (r.type) {
    case 'Team':
      return [principal];
    case 'Artifact': {
      // A job submits for its own team; anyone else (a reviewer) is asked about a named team.
      const team = r.team ?? (p.type === 'Job' ? p.team : undefined);
      if (team === undefined) throw new Error('an artifact decided for a person must name its team');
      return [principal, { uid: uid('Artifact', r.id), attrs: { kind: r.kind, team: ref('Team', team) }, parents: [] }];
    }
    case 'Split':
      return [principal, { uid: uid('Split', splitId(r.dataset, r.split)), attrs: { kind: r.kind }, parents: [uid('Dataset', r.dataset)] }];
    case 'Object': {
      // An object outside every split points at a split no grant can name, of no kind.
      const split = r.split ?? { name: '\u0000none', kind: 'none' };
      const sid = splitId(r.dataset, split.name);
      return [
        principal,
        { uid: uid('Split', sid), attrs: { kind: split.kind }, parents: [uid('Dataset', r.dataset)] },
        {
          uid: uid('Object', `${r.dataset}/${r.key}`),
          attrs: { split: ref('Split', sid), manifest: r.manifest },
          parents: [uid('Split', sid)],
        },
      ];
    }
  }
}

/** `permit(principal is Job in Team, action in [list, read], resource in Split) when { window }`, as Cedar JSON. */
function grantPolicy(g: GrantRule): cedar.PolicyJson {
  const now: cedar.Expr = { '.': { left: { Var: 'context' }, attr: 'now' } };
  return {
    effect: 'permit',
    // Jobs only: a person of the team (a User in the Team) reads no raw data through a grant.
    principal: { op: 'is', entity_type: `${NS}::Job`, in: { entity: uid('Team', g.team) } },
    action: { op: 'in', entities: ACTIONS.map((a) => uid('Action', a)) },
    resource: { op: 'in', entity: uid('Split', splitId(g.dataset, g.split)) },
    conditions: [
      {
        kind: 'when',
        body: {
          '&&': {
            left: { '>=': { left: now, right: { Value: g.notBefore.getTime() } } },
            right: { '<': { left: now, right: { Value: g.notAfter.getTime() } } },
          },
        },
      },
    ],
    annotations: { id: grantPolicyId(g.id) },
  };
}
