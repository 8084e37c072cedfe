import { Kysely, Migrator, type Dialect } from 'kysely';
import { migrationProvider } from './migrations/index.js';
import { createPostgresDialect } from './postgres/dialect.js';
import type { Database } from './schema.js';
import { createSqliteDialect } from './sqlite/dialect.js';

export type DialectName = 'sqlite' | 'postgres';

export interface DatabaseHandle {
  db: Kysely<Database>;
  dialect: DialectName;
  close(): Promise<void>;
}

export function dialectOf(url: string): DialectName {
  return /^postgres(ql)?:\/\//.test(url) ? 'postgres' : 'sqlite';
}

const DIALECTS: Record<DialectName, (url: string) => Dialect> = {
  sqlite: createSqliteDialect,
  postgres: createPostgresDialect,
};

/**
 * Opens the database named by `url` (a file path or `sqlite:` URL selects SQLite,
 * `postgres://` PostgreSQL) and brings its schema to the latest version.
 */
export async function openDatabase(url: string, opts: { migrate?: boolean } = {}): Promise<DatabaseHandle> {
  const dialect = dialectOf(url);
  const db = new Kysely<Database>({ dialect: DIALECTS[dialect](url) });
  try {
    if (opts.migrate !== false) await migrate(db);
  } catch (err) {
    await db.destroy();
    throw err;
  }
  return { db, dialect, close: () => db.destroy() };
}

export async function migrate(db: Kysely<Database>): Promise<string[]> {
  const migrator = new Migrator({ db, provider: migrationProvider });
  const { error, results } = await migrator.migrateToLatest();
  if (error) {
    const failed = results?.find((r) => r.status === 'Error')?.migrationName;
    throw new Error(`database migration ${failed ?? ''} failed: ${(error as Error).message ?? String(error)}`);
  }
  return (results ?? []).filter((r) => r.status === 'Success').map((r) => r.migrationName);
}

export type { Database } from './schema.js';
