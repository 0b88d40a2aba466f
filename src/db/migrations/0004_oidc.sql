-- External OpenID Connect issuers whose tokens the control listener accepts.
CREATE TABLE oidc_issuers (
  issuer      text PRIMARY KEY,
  jwks_url    text NOT NULL,
  audience    text NOT NULL,
  role_claim  text NOT NULL,
  added_at    timestamptz NOT NULL,
  added_by    text NOT NULL
);
