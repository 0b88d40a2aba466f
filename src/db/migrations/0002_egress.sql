-- Egress: the series index predictions are checked against, artifacts, reviews.

-- One row per scan: its world bounding box (voxel centres, mm) from the .mhd header.
CREATE TABLE series (
  dataset_id  text NOT NULL REFERENCES datasets (id),
  split       text NOT NULL,
  seriesuid   text NOT NULL,
  min_x       double precision NOT NULL,
  min_y       double precision NOT NULL,
  min_z       double precision NOT NULL,
  max_x       double precision NOT NULL,
  max_y       double precision NOT NULL,
  max_z       double precision NOT NULL,
  PRIMARY KEY (dataset_id, seriesuid),
  FOREIGN KEY (dataset_id, split) REFERENCES splits (dataset_id, name)
);

-- Every submission, released or not. `sha256` is of the canonical bytes (what is or would be
-- released), `submitted_sha256` of the bytes as submitted.
CREATE TABLE egress_artifacts (
  id                text PRIMARY KEY,
  team_id           text NOT NULL REFERENCES teams (id),
  job_id            text NOT NULL,
  kind              text NOT NULL,
  status            text NOT NULL CHECK (status IN ('releasing', 'released', 'pending_review', 'rejected', 'failed')),
  day               date NOT NULL,
  submitted_sha256  text NOT NULL,
  submitted_bytes   bigint NOT NULL,
  sha256            text,
  bytes             bigint,
  bits              double precision NOT NULL DEFAULT 0,
  reasons           text NOT NULL DEFAULT '[]',
  outbox_key        text,
  audit_index       bigint,
  created_at        timestamptz NOT NULL,
  decided_at        timestamptz
);
CREATE INDEX egress_artifacts_team_day ON egress_artifacts (team_id, day);
CREATE INDEX egress_artifacts_status ON egress_artifacts (status);

CREATE TABLE egress_reviews (
  artifact_id  text NOT NULL REFERENCES egress_artifacts (id),
  reviewer     text NOT NULL,
  decision     text NOT NULL CHECK (decision IN ('approve', 'reject')),
  comment      text NOT NULL,
  created_at   timestamptz NOT NULL,
  audit_index  bigint NOT NULL,
  PRIMARY KEY (artifact_id, reviewer)
);
