-- Reviewer independence (issue 11): an airlock reviewer must never have been affiliated with the
-- submitting team, so the gateway keeps who was a member, and who each review came from.

-- Former team memberships. Removing a member deletes its team_members row; the row moves here in
-- the same statement, so "was a member" survives. A person can leave a team more than once.
CREATE TABLE team_former_members (
  team_id     text NOT NULL REFERENCES teams (id),
  subject     text NOT NULL,
  issuer      text NOT NULL DEFAULT '',
  added_at    timestamptz,
  added_by    text,
  removed_at  timestamptz NOT NULL,
  removed_by  text NOT NULL
);
CREATE INDEX team_former_members_subject ON team_former_members (subject, issuer);

-- Removals made before this table existed are in the audit log (team.member.remove leaves name
-- the person in detail.before); when those members were added is not recorded there.
INSERT INTO team_former_members (team_id, subject, issuer, removed_at, removed_by)
SELECT team, (leaf::jsonb) #>> '{detail,before,subject}', COALESCE((leaf::jsonb) #>> '{detail,before,issuer}', ''), time, principal
FROM audit_leaves
WHERE action = 'team.member.remove' AND decision = 'allow' AND team IN (SELECT id FROM teams)
  AND (leaf::jsonb) #>> '{detail,before,subject}' IS NOT NULL;

-- Creating a job for a team (jobs.created_by, `user:<sub>`) affiliates a person with it.
CREATE INDEX jobs_created_by ON jobs (created_by, team_id);

-- The person behind each airlock review (subject at issuer, '' for the gateway's own tokens), the
-- role and team claim of the token used: approvals are decided again on these at release time.
CREATE TABLE egress_reviewers (
  artifact_id  text NOT NULL,
  reviewer     text NOT NULL,
  subject      text NOT NULL,
  issuer       text NOT NULL,
  role         text NOT NULL,
  token_team   text,
  PRIMARY KEY (artifact_id, reviewer),
  FOREIGN KEY (artifact_id, reviewer) REFERENCES egress_reviews (artifact_id, reviewer)
);
