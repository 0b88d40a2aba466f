-- dataset_objects was written by every index run and read by nothing: the manifest
-- (manifest_entries) is what an ingested dataset is served from, and the store is listed for
-- the rest. A write-only copy is a cost and a place for the two to disagree.
DROP TABLE dataset_objects;
