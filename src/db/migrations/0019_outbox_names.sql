-- What a job uploaded under an outbox key through the S3 API (issue 19): clients (rclone) HEAD the
-- key after an upload and compare its size and ETag with what they sent. The outbox is never
-- listed or read; a HEAD answers the job that uploaded the key with its own upload's size and
-- ETag, and everyone else with 404.
CREATE TABLE outbox_names (
  job_id       text NOT NULL,
  object_key   text NOT NULL,
  artifact_id  text NOT NULL,
  size         bigint NOT NULL,
  etag         text NOT NULL,
  uploaded_at  timestamptz NOT NULL,
  PRIMARY KEY (job_id, object_key)
);
