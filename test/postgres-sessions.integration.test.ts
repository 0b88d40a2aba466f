import { DatabaseUnavailableError } from '../src/db/database';
import { PostgresDatabase } from '../src/db/postgres.database';
import { openTestDatabase, POSTGRES_URL } from './support/backends';

/*
 * A PostgreSQL session terminated under the gateway (pg_terminate_backend, a failover, a server
 * restart) fails what was using it with a 503-class error, and nothing else: found by the soak
 * suite, where a session killed inside a transaction emitted an 'error' no one listened to and
 * took the whole gateway process down.
 */
const describeWithPostgres = POSTGRES_URL === undefined ? describe.skip : describe;

describeWithPostgres('a PostgreSQL session terminated under the gateway', () => {
  it('fails the transaction that held it as unavailable, and the next one runs on a fresh session', async () => {
    const { db, drop } = await openTestDatabase('postgres');
    const admin = await PostgresDatabase.open(POSTGRES_URL!);
    try {
      const uncaught: Error[] = [];
      const onUncaught = (err: Error) => uncaught.push(err);
      process.on('uncaughtException', onUncaught);
      const attempt = db.transaction(async (tx) => {
        const { rows } = await tx.query<{ pid: number }>('SELECT pg_backend_pid() AS pid');
        await admin.query('SELECT pg_terminate_backend($1)', [rows[0].pid]);
        // Idle in the transaction while the server's FATAL arrives: the moment that crashed.
        await new Promise((r) => setTimeout(r, 300));
        await tx.query('SELECT 1');
      });
      await expect(attempt).rejects.toBeInstanceOf(DatabaseUnavailableError);
      process.off('uncaughtException', onUncaught);
      expect(uncaught).toEqual([]);
      await expect(db.transaction((tx) => tx.query<{ one: number }>('SELECT 1 AS one'))).resolves.toEqual(
        expect.objectContaining({ rows: [{ one: 1 }] }),
      );
    } finally {
      await admin.close();
      await drop();
    }
  });
});
