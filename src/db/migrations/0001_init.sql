-- Core state: datasets and their splits, teams, grants, jobs, the audit log.

CREATE TABLE datasets (
  id          text PRIMARY KEY,
  bucket      text NOT NULL,
  prefix      text NOT NULL DEFAULT '',
  title       text NOT NULL DEFAULT '',
  created_at  timestamptz NOT NULL,
  created_by  text NOT NULL
);

-- A split is a key prefix inside its dataset; kind drives policy (labels are never read by jobs).
CREATE TABLE splits (
  dataset_id  text NOT NULL REFERENCES datasets (id),
  name        text NOT NULL,
  kind        text NOT NULL CHECK (kind IN ('train', 'val', 'test', 'labels')),
  prefix      text NOT NULL,
  PRIMARY KEY (dataset_id, name),
  UNIQUE (dataset_id, prefix)
);

CREATE TABLE teams (
  id          text PRIMARY KEY,
  name        text NOT NULL,
  created_at  timestamptz NOT NULL,
  created_by  text NOT NULL
);

CREATE TABLE grants (
  id          text PRIMARY KEY,
  team_id     text NOT NULL REFERENCES teams (id),
  dataset_id  text NOT NULL,
  split       text NOT NULL,
  not_before  timestamptz NOT NULL,
  not_after   timestamptz NOT NULL,
  byte_quota  bigint,
  created_at  timestamptz NOT NULL,
  created_by  text NOT NULL,
  revoked_at  timestamptz,
  revoked_by  text,
  FOREIGN KEY (dataset_id, split) REFERENCES splits (dataset_id, name),
  CHECK (not_after > not_before)
);
CREATE INDEX grants_team ON grants (team_id);

CREATE TABLE jobs (
  id             text PRIMARY KEY,
  team_id        text NOT NULL REFERENCES teams (id),
  created_at     timestamptz NOT NULL,
  created_by     text NOT NULL,
  expires_at     timestamptz NOT NULL,
  revoked_at     timestamptz,
  revoked_by     text,
  access_key_id  text UNIQUE,
  -- The S3 secret, sealed with the gateway's data key (AES-256-GCM); SigV4 needs the secret itself.
  secret_sealed  text
);
CREATE INDEX jobs_team ON jobs (team_id);

-- One row per audit leaf. `leaf` is the canonical JSON, exactly the bytes that are hashed;
-- the other columns are copies for filtering and never the source of truth.
CREATE TABLE audit_leaves (
  idx         bigint PRIMARY KEY,
  leaf        text NOT NULL,
  leaf_hash   bytea NOT NULL,
  time        timestamptz NOT NULL,
  request_id  text NOT NULL,
  principal   text NOT NULL,
  team        text,
  action      text NOT NULL,
  decision    text NOT NULL
);
CREATE INDEX audit_leaves_time ON audit_leaves (time);
CREATE INDEX audit_leaves_principal ON audit_leaves (principal, idx);
CREATE INDEX audit_leaves_team ON audit_leaves (team, idx);
CREATE INDEX audit_leaves_action ON audit_leaves (action, decision, idx);

-- Small facts the gateway keeps about itself (demo job id, bootstrap done, ...).
CREATE TABLE gateway_state (
  key    text PRIMARY KEY,
  value  text NOT NULL
);
