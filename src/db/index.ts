import { Kysely, Migrator, sql, type Dialect } from 'kysely';
import { migrationProvider } from './migrations/index.js';
import { createPostgresDialect } from './postgres/dialect.js';
import { redactUrlPassword } from '../observability/redact.js';
import type { Database } from './schema.js';
import { createSqliteDialect } from './sqlite/dialect.js';

export type DialectName = 'sqlite' | 'postgres';

export interface DatabaseHandle {
  db: Kysely<Database>;
  dialect: DialectName;
  /**
   * Makes every commit so far survive a power loss, not only a crash of the process.
   * SQLite runs with synchronous=NORMAL: a commit reaches the WAL without an fsync, and
   * the WAL is synced at checkpoints, so this checkpoints. PostgreSQL's commits are
   * durable already.
   */
  syncCommitted(): Promise<void>;
  close(): Promise<void>;
}

const SYNC_INTERVAL_MS = 1000;


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
  // Which database failed is the first thing an operator needs; the driver's own message rarely says.
  const cannotOpen = (err: unknown) => new Error(`cannot open database ${redactUrlPassword(url)}: ${(err as Error).message ?? String(err)}`);
  let db: Kysely<Database>;
  try {
    db = new Kysely<Database>({ dialect: DIALECTS[dialect](url) });
  } catch (err) {
    throw cannotOpen(err);
  }
  try {
    if (opts.migrate !== false) await migrate(db);
  } catch (err) {
    await db.destroy();
    throw cannotOpen(err);
  }
  const syncCommitted = async () => {
    if (dialect === 'sqlite') await sql`pragma wal_checkpoint(PASSIVE)`.execute(db);
  };
  if (dialect !== 'sqlite') return { db, dialect, syncCommitted, close: () => db.destroy() };
  // SQLite checkpoints on its own only when the WAL has grown by 1000 pages: within a
  // second on a busy service, possibly hours on a quiet one. This bounds what a power
  // loss can take to about the last second; with nothing new in the WAL it costs nothing.
  // A failed checkpoint is tried again at the next tick and leaves the commits intact.
  const timer = setInterval(() => void syncCommitted().catch(() => undefined), SYNC_INTERVAL_MS);
  timer.unref();
  return {
    db,
    dialect,
    syncCommitted,
    close: async () => {
      clearInterval(timer);
      await db.destroy();
    },
  };
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
