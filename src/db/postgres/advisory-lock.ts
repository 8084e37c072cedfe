import pg from 'pg';
import { KeyedLock, type KeyedLocks } from '../keyed-lock.js';

/** First half of every advisory lock key Cinderblock takes, so other users of the database keep theirs. */
const LOCK_NAMESPACE = 0x43424c4b;
/** Sessions that hold or wait for a lock at once; more wait in the pool's queue, holding nothing. */
const LOCK_SESSIONS = 16;

/**
 * Per-key locks every process sharing the PostgreSQL database respects: several API
 * services may run the same volume's multi-step sequences, and PostgreSQL's advisory
 * locks make them take turns. Each held lock keeps one session of a pool of its own, so
 * the work inside, which queries through the service's main pool, can never find every
 * connection taken by lock holders. A process that dies loses its sessions and, with
 * them, its locks. Within a process the keys take turns first, so one process never
 * holds two sessions for one key.
 */
export class AdvisoryLocks implements KeyedLocks {
  private readonly local = new KeyedLock();
  private readonly pool: pg.Pool;

  constructor(url: string) {
    this.pool = new pg.Pool({ connectionString: url, max: LOCK_SESSIONS });
    this.pool.on('error', () => undefined);
  }

  run<T>(key: string, work: () => Promise<T>): Promise<T> {
    return this.local.run(key, async () => {
      const session = await this.pool.connect();
      // A session that dies while held (a PostgreSQL restart) takes its lock with it; its
      // error must not end the process, and its release below discards it.
      const onError = () => undefined;
      session.on('error', onError);
      try {
        await session.query('select pg_advisory_lock($1, hashtext($2))', [LOCK_NAMESPACE, key]);
      } catch (err) {
        session.off('error', onError);
        session.release(err as Error);
        throw err;
      }
      try {
        return await work();
      } finally {
        try {
          await session.query('select pg_advisory_unlock($1, hashtext($2))', [LOCK_NAMESPACE, key]);
          session.off('error', onError);
          session.release();
        } catch (err) {
          // The session may still hold the lock: closing it is what releases it.
          session.off('error', onError);
          session.release(err as Error);
        }
      }
    });
  }

  close(): Promise<void> {
    return this.pool.end();
  }
}
