import type { OpaqueKind } from '../../policy/egress-kinds/egress-kind.types';
import { EgressRejection } from './egress-rejection';
import { checkOpaque } from './opaque';

const KIND: OpaqueKind = { kind: 'model', format: 'opaque', maxBytes: 16, review: 'two-person' };

describe('checkOpaque', () => {
  it('passes the bytes through unchanged and charges 8 bits per byte', () => {
    const bytes = Buffer.from([0, 1, 2, 0xff, 0xfe, 10, 13]);
    const out = checkOpaque(bytes, KIND);
    expect(out.canonical.equals(bytes)).toBe(true);
    expect(out.bits).toBe(56);
    expect(out.rows).toBe(0);
    expect(out.summary).toEqual({ bytes: 7 });
    expect(checkOpaque(Buffer.alloc(16, 7), KIND).bits).toBe(128);
  });

  it('refuses more than maxBytes with too_large, and empty artifacts with empty, without echoing content', () => {
    const secret = Buffer.from('weights-secret-17');
    for (const [bytes, code] of [
      [secret, 'too_large'],
      [Buffer.alloc(0), 'empty'],
    ] as const) {
      let caught: unknown;
      try {
        checkOpaque(bytes, KIND);
      } catch (err) {
        caught = err;
      }
      expect(caught).toBeInstanceOf(EgressRejection);
      const r = caught as EgressRejection;
      expect(r.code).toBe(code);
      expect(r.line).toBeUndefined();
      expect(r.message).not.toContain('secret');
    }
  });
});
