-- Bytes served under each grant, for grants with a byte quota.
CREATE TABLE grant_usage (
  grant_id  text PRIMARY KEY REFERENCES grants (id),
  bytes     bigint NOT NULL DEFAULT 0
);
