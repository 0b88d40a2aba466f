-- The signing-key ring (issue 12): every key that has signed the gateway's tokens or audit
-- checkpoints, with its validity window, so that a rotation keeps old checkpoints verifiable and
-- every replica follows it. One key is active (not_after IS NULL).
CREATE TABLE signing_keys (
  -- The JWT `kid`: base64url of the first 8 bytes of SHA-256(public key).
  kid             text PRIMARY KEY,
  -- The 32-byte Ed25519 public key.
  public_key      bytea NOT NULL,
  -- A key made by a rotation: its PKCS#8 PEM, sealed (AES-256-GCM) under a key derived from the
  -- configured key (CAGE_SIGNING_KEY / _FILE / the data dir), so replicas share it. NULL for the
  -- configured key itself, which never leaves its file.
  private_sealed  text,
  not_before      timestamptz NOT NULL,
  not_after       timestamptz,
  -- A retired key's tokens are accepted until then (its checkpoints stay verifiable for ever).
  tokens_until    timestamptz,
  created_by      text NOT NULL,
  CHECK ((not_after IS NULL) = (tokens_until IS NULL))
);
CREATE UNIQUE INDEX signing_keys_one_active ON signing_keys ((true)) WHERE not_after IS NULL;
