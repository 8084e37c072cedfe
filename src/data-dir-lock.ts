import { join } from 'node:path';
import BetterSqlite3 from 'better-sqlite3';

const LOCK_FILE = 'cinderblock.lock';

/**
 * Claims the data dir for this process until the returned function is called. Two services
 * on one data dir would both rebuild the exports of the same volume files and serve them
 * from two targets, each with its own reservations and its own idea of who may log in.
 *
 * The claim is an fcntl lock, which the kernel drops when the process dies, however it
 * dies, so a crash never leaves a stale lock behind for the next start to trip over. Node
 * has no call for such a lock; SQLite's exclusive locking mode is one, taken on a file of
 * its own, so the service's database stays open to other readers.
 */
export function lockDataDir(dataDir: string): () => void {
  const path = join(dataDir, LOCK_FILE);
  const lock = new BetterSqlite3(path, { timeout: 0 });
  try {
    lock.pragma('locking_mode = EXCLUSIVE');
    // The first write takes the exclusive lock; in this mode it is kept until close.
    lock.exec('create table if not exists holder (pid integer not null); delete from holder;');
    lock.prepare('insert into holder (pid) values (?)').run(process.pid);
  } catch (err) {
    lock.close();
    if ((err as { code?: string }).code === 'SQLITE_BUSY') {
      throw new Error(`data dir ${dataDir} is in use by another cinderblock service (it holds ${path})`);
    }
    throw err;
  }
  return () => lock.close();
}
