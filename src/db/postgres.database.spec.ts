import { DatabaseUnavailableError, isUnavailable } from './database';
import { PostgresDatabase } from './postgres.database';

describe('PostgreSQL unavailability', () => {
  it('turns an unreachable server into DatabaseUnavailableError (503), not a raw driver error', async () => {
    await expect(PostgresDatabase.open('postgres://postgres@127.0.0.1:1/test')).rejects.toBeInstanceOf(DatabaseUnavailableError);
  });

  it('tells "cannot serve" from "bad statement" by SQLSTATE class', () => {
    expect(isUnavailable({ code: '57P01' })).toBe(true); // admin shutdown / terminated backend
    expect(isUnavailable({ code: '08006' })).toBe(true); // connection failure
    expect(isUnavailable({ code: '53300' })).toBe(true); // too many connections
    expect(isUnavailable({ code: 'ECONNREFUSED' })).toBe(true);
    expect(isUnavailable(new Error('Connection terminated unexpectedly'))).toBe(true);
    expect(isUnavailable({ code: '23505' })).toBe(false); // unique violation
    expect(isUnavailable({ code: '42601' })).toBe(false); // syntax error
  });
});
