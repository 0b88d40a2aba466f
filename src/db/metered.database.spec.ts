import { CageMetrics } from '../metrics/metrics.registry';
import { DatabaseUnavailableError } from './database';
import { MeteredDatabase } from './metered.database';
import { PgliteDatabase } from './pglite.database';

describe('MeteredDatabase (PGlite)', () => {
  const count = async (m: CageMetrics, reason: string) =>
    (await m.databaseErrors.get()).values.find((v) => v.labels.reason === reason)?.value;

  it('counts a refused statement once, also inside a transaction, and passes everything else through', async () => {
    const metrics = new CageMetrics();
    const db = new MeteredDatabase(await PgliteDatabase.open(undefined), metrics);
    expect(db.kind).toBe('pglite');
    expect((await db.query<{ n: number }>('SELECT 1 AS n')).rows).toEqual([{ n: 1 }]);
    await expect(db.query('SELECT * FROM no_such_table')).rejects.toThrow();
    await expect(db.transaction((tx) => tx.query('SELECT 1 / 0'))).rejects.toThrow();
    expect(await count(metrics, 'statement')).toBe(2);
    await db.close();
  });

  it('should not count an error of the transaction’s own code (a rule, not SQL) as a database error', async () => {
    const metrics = new CageMetrics();
    const db = new MeteredDatabase(await PgliteDatabase.open(undefined), metrics);
    await expect(
      db.transaction(async (tx) => {
        await tx.query('SELECT 1');
        throw new Error('over budget');
      }),
    ).rejects.toThrow('over budget');
    expect(await count(metrics, 'statement')).toBe(0);
    expect(await count(metrics, 'unavailable')).toBe(0);
    await db.close();
  });

  it('counts calls to a database that cannot serve as unavailable', async () => {
    const metrics = new CageMetrics();
    const db = new MeteredDatabase(await PgliteDatabase.open(undefined), metrics);
    await db.close();
    expect(db.closed).toBe(true);
    await expect(db.query('SELECT 1')).rejects.toBeInstanceOf(DatabaseUnavailableError);
    expect(await count(metrics, 'unavailable')).toBe(1);
  });
});
