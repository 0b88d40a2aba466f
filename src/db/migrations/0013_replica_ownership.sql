-- Scale-out (issue 14): work carried out over time names the replica that carries it out, so a
-- restarting replica reconciles only what a dead one left (src/db/replica.ts).
ALTER TABLE egress_artifacts ADD COLUMN owner text;
ALTER TABLE ingest_runs ADD COLUMN owner text;

-- Checkpoints are copied to the checkpoint bucket until the copy lands (a store outage at
-- signing time no longer loses the copy).
ALTER TABLE audit_checkpoints ADD COLUMN copied_at timestamptz;
UPDATE audit_checkpoints SET copied_at = created_at;
