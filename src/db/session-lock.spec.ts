import { randomBytes } from 'node:crypto';
import { LockSpace } from './advisory-locks';
import { type Database } from './database';
import { PgliteDatabase } from './pglite.database';
import { PostgresDatabase } from './postgres.database';
import { Replica } from './replica';

const POSTGRES_URL = process.env.CAGE_TEST_DATABASE_URL;
const key = { space: LockSpace.startup, name: `test-${randomBytes(4).toString('hex')}` };

async function behaves(open: () => Promise<Database>, otherSessionsSeeIt: boolean): Promise<void> {
  const db = await open();
  try {
    const held = await db.sessionLock(key, { wait: true });
    expect(held).toBeDefined();
    expect(await db.sessionLock(key, { wait: false })).toBeUndefined();
    expect(await db.lockHeldElsewhere(key)).toBe(otherSessionsSeeIt);
    const order: string[] = [];
    const waiting = db.sessionLock(key, { wait: true }).then((h) => {
      order.push('second');
      return h;
    });
    await new Promise((r) => setTimeout(r, 100));
    order.push('first released');
    await held!.release();
    const second = await waiting;
    expect(order).toEqual(['first released', 'second']);
    await second!.release();
    expect(await db.lockHeldElsewhere(key)).toBe(false);
  } finally {
    await db.close();
  }
}

describe('session locks', () => {
  it('PGlite: one holder at a time, waiters in turn (one session: never "held elsewhere")', async () => {
    await behaves(() => PgliteDatabase.open(undefined), false);
  });

  (POSTGRES_URL === undefined ? it.skip : it)('PostgreSQL: one holder at a time, waiters in turn, seen from other sessions', async () => {
    await behaves(() => PostgresDatabase.open(POSTGRES_URL!), true);
  });

  (POSTGRES_URL === undefined ? it.skip : it)('a replica is alive while its process holds its lock, and dead once it is gone', async () => {
    const a = await PostgresDatabase.open(POSTGRES_URL!);
    const b = await PostgresDatabase.open(POSTGRES_URL!);
    try {
      const ra = await Replica.join(a);
      const rb = await Replica.join(b);
      expect(await rb.isAlive(ra.id)).toBe(true);
      expect(await rb.isAlive(rb.id)).toBe(true);
      expect(await rb.isAlive(null)).toBe(false);
      await a.close(); // the process's connections end: its lock with them
      expect(await rb.isAlive(ra.id)).toBe(false);
      await rb.leave();
    } finally {
      await b.close();
    }
  });
});
