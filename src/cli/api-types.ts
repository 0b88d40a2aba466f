/* The control API's response shapes, as docs/control-api.md specifies them. */

import { type SplitKind } from './arg-parsers';

export interface Split {
  name: string;
  kind: SplitKind;
  prefix: string;
}

export interface Dataset {
  id: string;
  bucket: string;
  prefix: string;
  title: string;
  splits: Split[];
  objects: number | null;
  bytes: number | null;
  series: number;
  indexedAt: string | null;
  createdAt: string;
  createdBy: string;
}

export interface IndexRun {
  id: string;
  dataset: string;
  state: 'running' | 'done' | 'failed';
  objectsSeen: number;
  bytesSeen: number;
  seriesIndexed: number;
  startedAt: string;
  finishedAt: string | null;
  error: string | null;
}

export interface ManifestReport {
  dataset: string;
  checked: number;
  listed: number;
  unexpected: string[];
  changed: string[];
  missing: string[];
}

export interface IngestRun {
  id: string;
  dataset: string;
  source: string;
  target: string;
  state: 'running' | 'done' | 'partial' | 'cancelled' | 'failed' | 'interrupted';
  filesTotal: number;
  filesDone: number;
  filesWritten: number;
  filesSkipped: number;
  filesRefused: number;
  bytesWritten: number;
  summary: {
    stripped: Record<string, number>;
    refused: { path: string; reason: string }[];
    refusedTotal: number;
    withdrawn: number;
    manifestSha256: string | null;
    manifestEntries: number;
  } | null;
  startedAt: string;
  startedBy: string;
  finishedAt: string | null;
  error: string | null;
}

export interface Team {
  id: string;
  name: string;
  members: number;
  createdAt: string;
}

export interface Member {
  team: string;
  subject: string;
  issuer: string;
  addedAt: string;
}

export interface Grant {
  id: string;
  team: string;
  dataset: string;
  split: string;
  notBefore: string;
  notAfter: string;
  byteQuota: number | null;
  createdAt: string;
  createdBy: string;
  revokedAt: string | null;
  revokedBy: string | null;
  state: 'active' | 'scheduled' | 'expired' | 'revoked';
}

export interface JobCredentials {
  jobId: string;
  team: string;
  token: string;
  accessKeyId: string;
  secretAccessKey: string;
  expiresAt: string;
}

export interface Job {
  jobId: string;
  team: string;
  accessKeyId: string;
  createdAt: string;
  createdBy: string;
  expiresAt: string;
  revokedAt: string | null;
  state: 'active' | 'expired' | 'revoked';
}

export interface PolicyVersion {
  version: number;
  sha256: string;
  activatedAt: string;
  activatedBy: string;
  files: string[];
  active: boolean;
}

export interface PolicyCheck {
  ok: boolean;
  sha256: string;
  errors: string[];
  expectations: { name: string; passed: boolean; message: string }[];
}

export const ROLES = ['organizer', 'auditor', 'contestant'] as const;
export type Role = (typeof ROLES)[number];

export interface IssuedToken {
  token: string;
  expiresAt: string;
}

/** A signing key of the ring, with its validity window (`GET /v1/keys/signing`). */
export interface SigningKey {
  keyId: string;
  verifierKey: string;
  kid: string;
  notBefore: string;
  /** null: the active key. */
  notAfter: string | null;
  tokensUntil: string | null;
  active: boolean;
}
