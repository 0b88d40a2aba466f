import * as cedar from '@cedar-policy/cedar-wasm/nodejs';
import { type DecisionRequest, type PolicyDecision, type TeamGrants } from './policy.types';

/**
 * What the policy files may read of a decision, per action. Everything the engine puts into a
 * decision is a key of the cache except what is listed here as optional: the principal's and the
 * resource's ids (a job id, an object key, an artifact id) and the context's attributes. Those
 * enter the key only when some policy that can apply to the action reads them; a policy that
 * reads the context as a whole makes the action uncacheable.
 */
export interface ActionReads {
  principalId: boolean;
  resourceId: boolean;
  /** Context attributes read by name (`context.x`, `context has x`), sorted. */
  context: string[];
  /** A policy reads something the key cannot name (the whole context): decide every time. */
  uncacheable: boolean;
}

const ALL_ACTIONS: readonly DecisionRequest['action'][] = ['list', 'read', 'egress', 'review', 'release', 'authenticate'];

/**
 * Reads the policies (Cedar's JSON form) and says, per action, what they read. The walk is
 * conservative: a `principal` or `resource` anywhere but under an attribute access, a `has` or a
 * bare `is` counts as reading its id; a scope that names an entity (`==`, `in`, `is … in`) does
 * too. A policy whose action scope does not name the action cannot apply to it and is skipped.
 */
export function policyReads(policies: Record<string, string>): Map<DecisionRequest['action'], ActionReads> {
  const out = new Map<DecisionRequest['action'], ActionReads>();
  const context = new Map<DecisionRequest['action'], Set<string>>();
  for (const a of ALL_ACTIONS) {
    out.set(a, { principalId: false, resourceId: false, context: [], uncacheable: false });
    context.set(a, new Set());
  }
  for (const [id, text] of Object.entries(policies)) {
    const parsed = cedar.policyToJson(text);
    if (parsed.type === 'failure') throw new Error(`${id}: ${parsed.errors.map((e) => e.message).join('; ')}`);
    const p = parsed.json;
    const seen: Reads = {
      principalId: scopeNamesEntity(p.principal),
      resourceId: scopeNamesEntity(p.resource),
      context: new Set(),
      whole: false,
    };
    for (const c of p.conditions) walk(c.body, seen);
    for (const a of actionsOf(p.action)) {
      const r = out.get(a);
      if (r === undefined) continue;
      r.principalId ||= seen.principalId;
      r.resourceId ||= seen.resourceId;
      r.uncacheable ||= seen.whole;
      seen.context.forEach((x) => context.get(a)?.add(x));
    }
  }
  for (const [a, r] of out) r.context = [...(context.get(a) ?? [])].sort();
  return out;
}

interface Reads {
  principalId: boolean;
  resourceId: boolean;
  context: Set<string>;
  whole: boolean;
}

type Node = Record<string, unknown>;

function scopeNamesEntity(scope: { op: string; in?: unknown }): boolean {
  return scope.op === '==' || scope.op === 'in' || (scope.op === 'is' && scope.in !== undefined);
}

function actionsOf(scope: cedar.ActionConstraint): readonly DecisionRequest['action'][] {
  const s = scope as { op: string; entity?: unknown; entities?: unknown[] };
  const named = s.op === '==' || s.op === 'in' ? (s.entities ?? [s.entity]) : undefined;
  const ids = named?.map((e) => {
    const uid = (e as { __entity?: unknown })?.__entity ?? e;
    return (uid as { id?: unknown })?.id;
  });
  // 'All', or an action group (none exists in the schema), or anything else: all actions
  // (conservative).
  if (ids === undefined || ids.some((i) => !ALL_ACTIONS.includes(i as DecisionRequest['action']))) return ALL_ACTIONS;
  return ids as DecisionRequest['action'][];
}

function walk(node: unknown, seen: Reads): void {
  if (node === null || typeof node !== 'object') return;
  if (Array.isArray(node)) {
    for (const n of node) walk(n, seen);
    return;
  }
  const n = node as Node;
  const access = (n['.'] ?? n.has) as Node | undefined;
  if (access !== undefined && isVar(access.left)) {
    // `context.x`, `principal.role`, `resource.split`: the attribute, not the id.
    if (access.left.Var === 'context' && typeof access.attr === 'string') seen.context.add(access.attr);
    return;
  }
  const is = n.is as Node | undefined;
  if (is !== undefined && isVar(is.left) && is.in === undefined) return;
  if (isVar(n)) {
    if (n.Var === 'principal') seen.principalId = true;
    else if (n.Var === 'resource') seen.resourceId = true;
    else if (n.Var === 'context') seen.whole = true;
    return;
  }
  for (const v of Object.values(n)) walk(v, seen);
}

function isVar(n: unknown): n is { Var: string } {
  return typeof n === 'object' && n !== null && typeof (n as Node).Var === 'string';
}

/**
 * Decisions remembered by everything that can change them: the policy generation, the team's
 * grants (their fingerprint, and which of them are inside their window at `now`: a grant's
 * permit reads nothing else of the request but the principal's team and the resource's split),
 * the action, the listener, the principal's type, teams and role, the resource's type and
 * attributes, and what {@link policyReads} says the files read of the rest. A decision is a pure
 * function of those, so a remembered one is the one Cedar would give.
 *
 * Bounded: the oldest entries go first once `max` is reached.
 */
export class DecisionCache {
  private readonly entries = new Map<string, PolicyDecision>();
  hits = 0;
  misses = 0;

  constructor(
    private readonly reads: Map<DecisionRequest['action'], ActionReads>,
    private readonly max = 50_000,
  ) {}

  /** The key of a decision, or undefined when this action's policies read what no key can name. */
  keyOf(generation: number, req: DecisionRequest, grants: TeamGrants | undefined): string | undefined {
    const reads = this.reads.get(req.action);
    if (reads === undefined || reads.uncacheable) return undefined;
    const p = req.principal;
    const r = req.resource;
    const parts: (string | number | null)[] = [generation, req.action, req.listener];
    if (grants === undefined) parts.push(null);
    else {
      let inWindow = '';
      const t = req.now.getTime();
      for (const g of grants.grants) inWindow += t >= g.notBefore.getTime() && t < g.notAfter.getTime() ? '1' : '0';
      parts.push(grants.team, grants.fingerprint, inWindow);
    }
    if (p.type === 'Job') parts.push('Job', p.team, reads.principalId ? p.id : null);
    else parts.push('User', p.role, p.teams.join('\u0000'), reads.principalId ? p.id : null);
    switch (r.type) {
      case 'Object':
        parts.push('Object', r.dataset, r.split?.name ?? null, r.split?.kind ?? null, r.manifest, reads.resourceId ? r.key : null);
        break;
      case 'Split':
        parts.push('Split', r.dataset, r.split, r.kind);
        break;
      case 'Artifact':
        parts.push('Artifact', r.kind, r.team ?? null, reads.resourceId ? r.id : null);
        break;
      case 'Team':
        parts.push('Team', reads.resourceId ? r.id : null);
        break;
    }
    const ctx = req.context;
    for (const name of reads.context) {
      if (name === 'listener') continue;
      if (name === 'now') parts.push(req.now.getTime());
      else {
        parts.push(ctx?.[name] ?? null);
      }
    }
    return JSON.stringify(parts);
  }

  get(key: string): PolicyDecision | undefined {
    const d = this.entries.get(key);
    if (d === undefined) this.misses++;
    else this.hits++;
    return d;
  }

  set(key: string, decision: PolicyDecision): PolicyDecision {
    if (this.entries.size >= this.max) {
      const oldest = this.entries.keys().next();
      if (oldest.done !== true) this.entries.delete(oldest.value);
    }
    const frozen = Object.freeze({
      ...decision,
      policies: Object.freeze([...decision.policies]) as string[],
      categories: Object.freeze([...decision.categories]) as PolicyDecision['categories'],
      errors: Object.freeze([...decision.errors]) as string[],
    });
    this.entries.set(key, frozen);
    return frozen;
  }

  clear(): void {
    this.entries.clear();
  }
}
