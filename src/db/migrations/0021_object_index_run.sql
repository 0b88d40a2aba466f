-- The run whose object index a registered dataset's listings read (issue 20). indexed_at is
-- older than dataset_objects (0020): a dataset indexed before 0020 has no object index yet and
-- keeps listing the store until its next index run sets this.
ALTER TABLE datasets ADD COLUMN object_index_run text;
