-- The leaderboard (issue 18): submissions scored inside the cage. Their predictions stay in the
-- private submissions bucket; a team is shown only the Ladder's score. The seed that splits the
-- test scans into public and private parts is made once and never served by any route.
CREATE TABLE leaderboard_secret (
  id smallint PRIMARY KEY CHECK (id = 1),
  seed bytea NOT NULL,
  created_at timestamptz NOT NULL
);

CREATE TABLE submissions (
  id text PRIMARY KEY,
  kind text NOT NULL,
  team_id text NOT NULL,
  job_id text NOT NULL,
  day text NOT NULL,
  created_at timestamptz NOT NULL,
  predictions_sha256 text NOT NULL,
  stored_key text NOT NULL,
  public_score double precision NOT NULL,
  shown_score double precision NOT NULL,
  improved boolean NOT NULL,
  private_score double precision,
  selected boolean NOT NULL DEFAULT false
);
CREATE INDEX submissions_by_team ON submissions (kind, team_id, created_at);
