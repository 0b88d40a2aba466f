-- Listings from the database (issue 20): a dataset's listing pages come from its index, O(page)
-- whatever the dataset's size. Keys are compared as S3 orders them (UTF-8 bytes): COLLATE "C".

-- The object index of a registered dataset, as `cage dataset index` last saw its bucket (0012
-- dropped the write-only copy of old; listings now read this one). Each row names the run that
-- (re)wrote it, so a finished run removes what it did not see.
CREATE TABLE dataset_objects (
  dataset_id     text NOT NULL REFERENCES datasets (id),
  key            text NOT NULL,
  size           bigint NOT NULL,
  etag           text NOT NULL,
  last_modified  timestamptz,
  index_run      text,
  PRIMARY KEY (dataset_id, key)
);
CREATE INDEX dataset_objects_listing ON dataset_objects (dataset_id, key COLLATE "C");

-- An ingested dataset lists its manifest.
CREATE INDEX manifest_entries_listing ON manifest_entries (dataset_id, key COLLATE "C");
