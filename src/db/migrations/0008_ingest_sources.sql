-- Which source an ingested object came from (an HMAC of the source's address), so a later full
-- run of the same source can withdraw what that source no longer yields.
ALTER TABLE manifest_entries ADD COLUMN source_id text NOT NULL DEFAULT '';
CREATE INDEX manifest_entries_source_id ON manifest_entries (dataset_id, source_id);
