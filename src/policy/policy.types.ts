import { type EgressKinds } from './egress-kinds/egress-kind.types';
import { type Budget } from './policy-files';

/** What the data plane, egress and the airlock ask the policy decision point. */
export interface DecisionRequest {
  /** A job; a person when a compliance officer reviews an artifact (or an expectation asks). */
  principal: JobRef | UserRef;
  action: 'list' | 'read' | 'egress' | 'review' | 'release' | 'authenticate';
  resource: SplitRef | ObjectRef | ArtifactRef | TeamRef;
  listener: 'sandbox' | 'control';
  now: Date;
  /**
   * Further context for the action: a read's `bytes` and `quotaRemaining`, an egress's kind,
   * payload, bytes, bits and budget, a release's `approvals`, an authentication's `signature`
   * (policies/schema.cedarschema).
   * A fact a policy needs and the request lacks is an evaluation error, hence a denial.
   */
  context?: Record<string, string | number>;
}

export interface JobRef {
  type: 'Job';
  id: string;
  team: string;
}

/** A person. Policy sees them in every team they are or were affiliated with (their parents). */
export interface UserRef {
  type: 'User';
  id: string;
  role: string;
  /**
   * For a review: every team the person is or was a member of, the team claim of their token,
   * and every team they created a job for. Elsewhere: the team of their token, if any.
   */
  teams: string[];
}

export interface ArtifactRef {
  type: 'Artifact';
  id: string;
  kind: string;
  /** The submitting team. May be left out when the principal is the submitting job (its team). */
  team?: string;
}

/** A team, as the resource of `authenticate` (how a job of it may sign S3 requests). */
export interface TeamRef {
  type: 'Team';
  id: string;
}

export interface SplitRef {
  type: 'Split';
  dataset: string;
  split: string;
  kind: SplitKind;
}

export interface ObjectRef {
  type: 'Object';
  dataset: string;
  /** The split the key falls in, or null when it falls in none (then nothing permits it). */
  split: { name: string; kind: SplitKind } | null;
  key: string;
  /** What the dataset's manifest says of the object (`manifest` in the schema). */
  manifest: ManifestStatus;
}

export type SplitKind = 'train' | 'val' | 'test' | 'labels';

/**
 * `none`: the dataset serves by no manifest; `listed`: listed (and, once the store has answered,
 * with its size and ETag); `mismatch`: listed with another size or ETag; `absent`: not listed.
 */
export type ManifestStatus = 'none' | 'listed' | 'mismatch' | 'absent';

/**
 * Kinds of refusal a forbid may declare with `@category("…")`, so a service can answer a denial
 * by what it is without knowing policy ids: `quota` (a grant's byte quota: 429), `manifest` (an
 * object outside an ingested dataset's manifest: 404, reported), `budget` (the egress budget or
 * daily cap: 429 with no reasons). A set naming any other category is refused.
 */
export const POLICY_CATEGORIES = ['budget', 'manifest', 'quota'] as const;
export type PolicyCategory = (typeof POLICY_CATEGORIES)[number];

export interface PolicyDecision {
  decision: 'allow' | 'deny';
  /** Ids of the policies that determined the decision (grant ids are `grant:<id>`). */
  policies: string[];
  /** The `@category` of each determining policy that has one (sorted, once each). */
  categories: PolicyCategory[];
  /** SHA-256 of the policy files that decided. */
  policySet: string;
  /** Evaluation errors; a policy that errors is skipped by Cedar, so these are logged. */
  errors: string[];
}

/** The id of the permit a grant becomes (how a decision names the grant that allowed it). */
export function grantPolicyId(grant: string): string {
  return `grant:${grant}`;
}

/** A grant as policy sees it: team → split, inside [notBefore, notAfter). */
export interface GrantRule {
  id: string;
  team: string;
  dataset: string;
  split: string;
  notBefore: Date;
  notAfter: Date;
  /** Most bytes that may be served under this grant, or null for no limit. */
  byteQuota?: number | null;
}

/** A team's active grants, with a fingerprint that changes whenever they do. */
export interface TeamGrants {
  team: string;
  fingerprint: string;
  grants: GrantRule[];
}

export interface ActivePolicySet {
  sha256: string;
  version: number;
  activatedAt: Date;
  activatedBy: string;
  files: string[];
}

/**
 * The policy decision point. Cedar is the engine here; the interface stays small so an
 * OPA-bundle engine can sit behind it where that toolchain exists.
 */
export abstract class PolicyEngine {
  /**
   * Decides one request. `grants` are the grants of the principal's team (the data plane and
   * egress); without them the policy files alone decide (a review: no grant permits a person).
   */
  abstract decide(req: DecisionRequest, grants?: TeamGrants): PolicyDecision;
  abstract get active(): ActivePolicySet;
  /** Egress kinds and the daily budget of the active set (activated with it, atomically). */
  abstract get egress(): { kinds: EgressKinds; budget: Budget };
}
