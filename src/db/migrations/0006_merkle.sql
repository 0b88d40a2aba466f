-- The audit log's Merkle tree (RFC 6962): the hash of every complete aligned subtree, level 0
-- being the leaf hashes, so any tree head or proof costs O(log n) lookups. Signed checkpoints.
CREATE TABLE audit_nodes (
  level  integer NOT NULL,
  idx    bigint NOT NULL,
  hash   bytea NOT NULL,
  PRIMARY KEY (level, idx)
);

CREATE TABLE audit_checkpoints (
  size        bigint PRIMARY KEY,
  root        bytea NOT NULL,
  note        text NOT NULL,
  created_at  timestamptz NOT NULL
);
