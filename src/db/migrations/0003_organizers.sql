-- Organizers: team members, dataset manifests and index runs, policy versions.

-- People by the subject of their JWT. issuer '' means tokens the gateway issues itself.
CREATE TABLE team_members (
  team_id   text NOT NULL REFERENCES teams (id),
  subject   text NOT NULL,
  issuer    text NOT NULL DEFAULT '',
  added_at  timestamptz NOT NULL,
  added_by  text NOT NULL,
  PRIMARY KEY (team_id, subject, issuer)
);
CREATE INDEX team_members_subject ON team_members (subject, issuer);

-- The object manifest of a dataset as last indexed.
CREATE TABLE dataset_objects (
  dataset_id  text NOT NULL REFERENCES datasets (id),
  key         text NOT NULL,
  size        bigint NOT NULL,
  etag        text NOT NULL,
  PRIMARY KEY (dataset_id, key)
);

CREATE TABLE index_runs (
  id              text PRIMARY KEY,
  dataset_id      text NOT NULL REFERENCES datasets (id),
  state           text NOT NULL CHECK (state IN ('running', 'done', 'failed')),
  objects_seen    bigint NOT NULL DEFAULT 0,
  bytes_seen      bigint NOT NULL DEFAULT 0,
  series_indexed  bigint NOT NULL DEFAULT 0,
  started_at      timestamptz NOT NULL,
  finished_at     timestamptz,
  started_by      text NOT NULL,
  error           text
);
CREATE INDEX index_runs_dataset ON index_runs (dataset_id, started_at);

ALTER TABLE datasets ADD COLUMN objects bigint;
ALTER TABLE datasets ADD COLUMN bytes bigint;
ALTER TABLE datasets ADD COLUMN indexed_at timestamptz;

-- Every policy set ever activated; the highest version is the active one on every replica.
CREATE TABLE policy_versions (
  version       integer PRIMARY KEY,
  sha256        text NOT NULL,
  files         text NOT NULL,
  activated_at  timestamptz NOT NULL,
  activated_by  text NOT NULL
);
