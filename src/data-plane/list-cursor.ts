import { BadRequestException } from '@nestjs/common';
import { seal, unseal } from '../keys/secret-box';

const AAD = 'cage list cursor v1';
const PREFIX = 'c1.';

/** A cursor this gateway did not issue (or issued under another key). */
export class BadCursorError extends BadRequestException {
  constructor() {
    super('cursor is not one this gateway issued');
  }
}

/**
 * Listing cursors (REST nextCursor, S3 continuation tokens and NextMarker). A cursor records
 * where a page stopped scanning, which may be a key the job was not shown (an object outside
 * the manifest, a key of a split it may not list): so it is sealed (AES-256-GCM, with a key
 * derived from the gateway's signing key, the same on every replica) and says nothing to the
 * client but "continue here".
 */
export class ListCursors {
  constructor(private readonly key: Buffer) {}

  seal(lastKey: string): string {
    return PREFIX + seal(this.key, JSON.stringify({ k: lastKey }), AAD);
  }

  /** The key a cursor of ours stands for; BadCursorError for anything else. */
  open(cursor: string): string {
    if (!cursor.startsWith(PREFIX) || cursor.length > 4096) throw new BadCursorError();
    try {
      const v = JSON.parse(unseal(this.key, cursor.slice(PREFIX.length), AAD)) as { k?: unknown };
      if (typeof v.k === 'string' && v.k.length > 0) return v.k;
    } catch {
      // fall through
    }
    throw new BadCursorError();
  }

  /** Whether a string is one of our cursors (an S3 v1 marker may be a cursor or a plain key). */
  isCursor(s: string): boolean {
    try {
      this.open(s);
      return true;
    } catch {
      return false;
    }
  }
}
