import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import BetterSqlite3 from 'better-sqlite3';
import { SqliteDialect, type Dialect, type SqliteDatabase } from 'kysely';

/** "sqlite:/abs/path", "sqlite:///abs/path", "sqlite:relative", ":memory:" or a bare path. */
export function sqlitePath(url: string): string {
  const path = url.replace(/^sqlite:(\/\/)?/, '');
  if (!path) throw new Error(`database URL "${url}" names no SQLite file`);
  return path;
}

export function createSqliteDialect(url: string): Dialect {
  const path = sqlitePath(url);
  if (path !== ':memory:') mkdirSync(dirname(path), { recursive: true });
  const database = new BetterSqlite3(path);
  // WAL lets readers (a CLI `status`, a second process) work while the service writes;
  // busy_timeout turns a brief lock held by another process into a wait, not an error.
  database.pragma('journal_mode = WAL');
  database.pragma('busy_timeout = 5000');
  database.pragma('synchronous = NORMAL');
  database.pragma('foreign_keys = ON');
  return new SqliteDialect({ database: withStatementCache(database) });
}

const STATEMENT_CACHE_SIZE = 256;

/**
 * Kysely prepares every query afresh, and preparing costs more than running these
 * short statements. The service issues a few dozen distinct query texts, so keeping
 * their prepared statements makes each call a lookup. The oldest entry goes when the
 * cache is full (list filters can produce many texts).
 */
function withStatementCache(database: BetterSqlite3.Database): SqliteDatabase {
  const cache = new Map<string, BetterSqlite3.Statement>();
  return {
    close: () => database.close(),
    prepare: (text: string) => {
      let statement = cache.get(text);
      if (statement) return statement;
      statement = database.prepare(text);
      if (cache.size >= STATEMENT_CACHE_SIZE) cache.delete(cache.keys().next().value!);
      cache.set(text, statement);
      return statement;
    },
  } as SqliteDatabase;
}
