-- Ingest: de-identified copies of raw data, the manifest of what was produced, pseudonyms.

-- An ingested dataset serves only what its manifest lists (with the same size and ETag).
ALTER TABLE datasets ADD COLUMN manifest_enforced boolean NOT NULL DEFAULT false;

CREATE TABLE manifest_entries (
  dataset_id          text NOT NULL REFERENCES datasets (id),
  key                 text NOT NULL,
  sha256              text NOT NULL,
  size                bigint NOT NULL,
  etag                text NOT NULL,
  ingest_id           text NOT NULL,
  -- HMAC of the source path: the path itself may carry identifiers.
  source_lookup       text NOT NULL,
  source_fingerprint  text NOT NULL,
  created_at          timestamptz NOT NULL,
  PRIMARY KEY (dataset_id, key)
);
CREATE INDEX manifest_entries_source ON manifest_entries (dataset_id, source_lookup);

CREATE TABLE ingest_runs (
  id             text PRIMARY KEY,
  dataset_id     text NOT NULL REFERENCES datasets (id),
  source         text NOT NULL,
  target         text NOT NULL,
  state          text NOT NULL CHECK (state IN ('running', 'done', 'partial', 'cancelled', 'failed', 'interrupted')),
  files_total    bigint NOT NULL DEFAULT 0,
  files_done     bigint NOT NULL DEFAULT 0,
  files_written  bigint NOT NULL DEFAULT 0,
  files_skipped  bigint NOT NULL DEFAULT 0,
  files_refused  bigint NOT NULL DEFAULT 0,
  bytes_written  bigint NOT NULL DEFAULT 0,
  summary        text,
  started_at     timestamptz NOT NULL,
  started_by     text NOT NULL,
  finished_at    timestamptz,
  error          text
);
CREATE INDEX ingest_runs_dataset ON ingest_runs (dataset_id, started_at);

-- Original identifier -> pseudonym, per domain. The original is sealed (AES-GCM) and found by
-- an HMAC; no route on either listener reads this table.
CREATE TABLE pseudonyms (
  domain           text NOT NULL,
  kind             text NOT NULL CHECK (kind IN ('uid', 'patient')),
  lookup           text NOT NULL,
  original_sealed  text NOT NULL,
  pseudonym        text NOT NULL,
  shift_days       integer,
  created_at       timestamptz NOT NULL,
  PRIMARY KEY (domain, kind, lookup)
);
