import { createHash } from 'node:crypto';

/**
 * One audit leaf: a decision, an egress step or a change. The leaf's bytes are its canonical
 * JSON (UTF-8, sorted keys, no insignificant space), so anyone can recompute
 * SHA-256(0x00 ‖ line) from an export without this code (RFC 6962 leaf hash).
 */
export interface AuditLeaf {
  v: 1;
  /** UTC, millisecond precision, ISO 8601. */
  time: string;
  requestId: string;
  /** `job:<id>`, `user:<sub>` or `gateway` for the gateway's own acts. */
  principal: string;
  team: string | null;
  listener: 'sandbox' | 'control' | 'internal';
  action: string;
  decision: 'allow' | 'deny' | 'error' | 'info';
  /** HTTP status answered, when the leaf records a request. */
  status: number | null;
  resource: AuditResource | null;
  /** The single range served, as `start-end` inclusive, or null. */
  range: string | null;
  /** Policy ids that determined the decision. */
  policies: string[];
  /** SHA-256 (hex) of the policy set that decided. */
  policySet: string | null;
  /** Bytes the response carries (the object or range length); 0 for a denial. */
  bytes: number;
  /** SHA-256 (hex) of what was egressed, for egress leaves. */
  sha256: string | null;
  /** Free-form, small, structured detail: reasons, before/after of a change. */
  detail: Record<string, JsonValue> | null;
}

export interface AuditResource {
  type: string;
  dataset?: string;
  /** Object key bytes exactly as sent to the store, hex: keys are opaque bytes. */
  keyHex?: string;
  id?: string;
}

export type JsonValue = string | number | boolean | null | JsonValue[] | { [k: string]: JsonValue };

/** Canonical JSON: keys sorted by UTF-16 code unit order at every depth, no whitespace. */
export function canonicalJson(value: unknown): string {
  if (value === null || typeof value !== 'object') {
    if (typeof value === 'number' && !Number.isFinite(value)) throw new Error('canonical JSON has no NaN or Infinity');
    if (value === undefined) throw new Error('canonical JSON has no undefined');
    return JSON.stringify(value);
  }
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  const entries = Object.entries(value as Record<string, unknown>)
    .filter(([, v]) => v !== undefined)
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonicalJson(v)}`).join(',')}}`;
}

/** RFC 6962 leaf hash: SHA-256(0x00 ‖ leaf bytes). */
export function leafHash(leafBytes: Buffer | string): Buffer {
  return createHash('sha256')
    .update(Buffer.from([0]))
    .update(leafBytes)
    .digest();
}
