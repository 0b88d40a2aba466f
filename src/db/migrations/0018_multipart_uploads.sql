-- Multipart uploads into the outbox (issue 19): the parts are held inside the cage (the private
-- uploads bucket, never the outbox) until CompleteMultipartUpload runs the assembled object
-- through the egress pipeline as one artifact. An upload belongs to the job that created it.
CREATE TABLE multipart_uploads (
  id          text PRIMARY KEY,
  job_id      text NOT NULL,
  team        text NOT NULL,
  kind        text NOT NULL,
  -- The outbox key as the job named it ({kind}/{name}).
  object_key  text NOT NULL,
  -- open → completing → completed; open → aborted; open or completing → expired.
  state       text NOT NULL,
  created_at  timestamptz NOT NULL,
  expires_at  timestamptz NOT NULL,
  ended_at    timestamptz
);
CREATE INDEX multipart_uploads_job ON multipart_uploads (job_id, state);
CREATE INDEX multipart_uploads_expiry ON multipart_uploads (state, expires_at);

CREATE TABLE multipart_parts (
  upload_id    text NOT NULL REFERENCES multipart_uploads (id),
  part_number  integer NOT NULL,
  -- Where the part's bytes are in the uploads bucket (a new key per upload of the part number).
  stored_key   text NOT NULL,
  size         bigint NOT NULL,
  -- Hex MD5 of the part's bytes (S3's part ETag).
  etag         text NOT NULL,
  -- How the part's bytes were authenticated (sha256, aws-chunked, unsigned).
  payload      text NOT NULL,
  stored_at    timestamptz NOT NULL,
  PRIMARY KEY (upload_id, part_number)
);

-- Bytes a part on its way holds against its upload's cap until it is stored or fails: reserved,
-- under the upload's row lock, before its body is read, so parts racing in cannot pass the cap.
CREATE TABLE multipart_reservations (
  upload_id  text NOT NULL REFERENCES multipart_uploads (id),
  token      text PRIMARY KEY,
  bytes      bigint NOT NULL
);
CREATE INDEX multipart_reservations_upload ON multipart_reservations (upload_id);
