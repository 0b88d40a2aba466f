import { AbilityBuilder, createMongoAbility, type ForcedSubject, type MongoAbility } from '@casl/ability';
import { type Principal } from '../principal/principal';

export type AppAction = 'manage' | 'create' | 'read' | 'list' | 'update' | 'delete' | 'review';
export type AppSubject =
  | 'all'
  | 'Dataset'
  | 'DatasetObject'
  | 'Team'
  | 'Grant'
  | 'Job'
  | 'Policy'
  | 'AuditLog'
  | 'Egress'
  | 'Budget'
  | 'Receipt'
  | 'AllReceipts'
  | 'Token'
  | 'Issuer'
  | 'Metrics'
  | 'SigningKey'
  /** The caller's own user token (refreshing it). */
  | 'OwnToken'
  /** The leaderboard (reading it; organizers close it). */
  | 'Leaderboard'
  /** Leaderboard submissions (a contestant: their team's, filtered in the service). */
  | 'Submission';

/**
 * A receipt as CASL sees it: its team is what a contestant's rows are filtered on. `AllReceipts`
 * is reading every team's receipts whole, with no row filter (organizers and auditors): a rule of
 * its own, so no caller has to probe `Receipt` with a team nobody is in.
 */
export interface ReceiptRow extends ForcedSubject<'Receipt'> {
  team: string;
}

export type AppAbility = MongoAbility<[AppAction, AppSubject | ReceiptRow]>;

/**
 * What each role may do through the API, before any data-level policy. Roles only ever gain
 * what is listed: a job reads data and submits egress, and nothing on the control plane; a
 * contestant (a person) never reads raw data; an auditor reads the log and reviews, but
 * cannot grant.
 */
export function abilityFor(p: Principal): AppAbility {
  const { can, build } = new AbilityBuilder<AppAbility>(createMongoAbility);
  if (p.kind === 'job') {
    can('list', 'Dataset');
    can('read', 'DatasetObject');
    can('create', 'Egress');
    can('read', 'Budget');
    return build();
  }
  can('update', 'OwnToken');
  switch (p.role) {
    case 'organizer':
      can('manage', ['Dataset', 'Team', 'Grant', 'Job', 'Policy', 'Token', 'Issuer', 'SigningKey', 'Leaderboard', 'Submission']);
      can('read', ['AuditLog', 'Egress', 'Receipt', 'AllReceipts', 'Metrics']);
      break;
    case 'auditor':
      can('read', ['AuditLog', 'Egress', 'Receipt', 'AllReceipts', 'Policy', 'Team', 'Grant', 'Dataset', 'Metrics', 'SigningKey']);
      can('read', ['Leaderboard', 'Submission']);
      can('review', 'Egress');
      break;
    case 'contestant':
      // Row filter: a contestant sees only their own team's receipts and released artifacts.
      can('read', 'Receipt', { team: p.team ?? '' });
      // The public leaderboard; their team's submissions, and choosing its final ones.
      can('read', ['Leaderboard', 'Submission']);
      can('update', 'Submission');
      break;
  }
  return build();
}
