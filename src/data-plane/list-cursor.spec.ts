import { randomBytes } from 'node:crypto';
import { BadCursorError, ListCursors } from './list-cursor';

describe('ListCursors', () => {
  const cursors = new ListCursors(randomBytes(32));
  const key = 'labels/patient-secret-019999.csv';

  it('seals the key a page stopped at, and opens it again', () => {
    const c = cursors.seal(key);
    expect(cursors.open(c)).toBe(key);
    expect(cursors.isCursor(c)).toBe(true);
  });

  it('should not let a cursor say which key it stands for', () => {
    const c = cursors.seal(key);
    for (const form of [key, Buffer.from(key).toString('base64url'), Buffer.from(key).toString('base64'), 'patient-secret'])
      expect(c).not.toContain(form);
    expect(c).not.toBe(cursors.seal(key)); // a fresh IV each time: equal keys do not give equal cursors
  });

  it('should not accept a cursor it did not issue: tampered, forged, of another gateway, or a plain key', () => {
    const c = cursors.seal(key);
    // One character before the last changed (the last may carry only padding bits).
    const tampered = c.slice(0, -2) + (c.at(-2) === 'A' ? 'B' : 'A') + c.slice(-1);
    expect(tampered).not.toBe(c);
    const forged = Buffer.from(JSON.stringify({ k: key })).toString('base64url');
    for (const bad of [tampered, forged, new ListCursors(randomBytes(32)).seal(key), key, 'c1.', '']) {
      expect(() => cursors.open(bad)).toThrow(BadCursorError);
      expect(cursors.isCursor(bad)).toBe(false);
    }
  });
});
