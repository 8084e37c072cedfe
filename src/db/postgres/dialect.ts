import pg from 'pg';
import { PostgresDialect, type Dialect } from 'kysely';

export function createPostgresDialect(url: string): Dialect {
  const pool = new pg.Pool({ connectionString: url, max: 10 });
  // An idle client losing its server (a PostgreSQL restart) must not crash the service;
  // the pool drops it and the next query opens a fresh connection.
  pool.on('error', () => undefined);
  return new PostgresDialect({ pool });
}
