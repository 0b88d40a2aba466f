-- Reviewer independence (issue 11): a person an organizer issued a token with a team claim for
-- (a contestant of that team, say) is affiliated with the team whether or not the membership
-- table lists them, and stays so after the token expires.
CREATE TABLE team_token_holders (
  team_id    text NOT NULL,
  subject    text NOT NULL,
  issuer     text NOT NULL DEFAULT '',
  role       text NOT NULL,
  issued_at  timestamptz NOT NULL,
  issued_by  text NOT NULL
);
CREATE INDEX team_token_holders_subject ON team_token_holders (subject, issuer);

-- Tokens issued before this table existed are in the audit log (token.issue leaves).
INSERT INTO team_token_holders (team_id, subject, issuer, role, issued_at, issued_by)
SELECT team, (leaf::jsonb) #>> '{detail,after,subject}', '', COALESCE((leaf::jsonb) #>> '{detail,after,role}', ''), time, principal
FROM audit_leaves
WHERE action = 'token.issue' AND decision = 'allow' AND team IS NOT NULL
  AND (leaf::jsonb) #>> '{detail,after,subject}' IS NOT NULL;
