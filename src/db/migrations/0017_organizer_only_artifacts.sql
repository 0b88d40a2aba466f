-- Artifacts for organizers only (issue 18): the final predictions of the selected leaderboard
-- submissions, held at the close for the two-person airlock. No team member ever lists, reads or
-- downloads them, and they cost the team nothing.
CREATE TABLE organizer_only_artifacts (
  id text PRIMARY KEY REFERENCES egress_artifacts (id)
);
