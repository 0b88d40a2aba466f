-- The leaderboard's close (issue 18): once per competition kind, by an organizer; after it the
-- private scores of the selected submissions are the final ranking, and selections are frozen.
CREATE TABLE leaderboard_closes (
  kind text PRIMARY KEY,
  closed_at timestamptz NOT NULL,
  closed_by text NOT NULL
);
