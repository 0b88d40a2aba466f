-- Revocable user tokens (issue 15): one token by its id (jti), or every token of a subject
-- issued up to a moment. Read by every replica (cached 500 ms), so a revocation holds within 1 s.
CREATE TABLE token_revocations (
  kind text NOT NULL CHECK (kind IN ('token', 'subject')),
  value text NOT NULL,
  revoked_at timestamptz NOT NULL,
  revoked_by text NOT NULL,
  PRIMARY KEY (kind, value)
);
