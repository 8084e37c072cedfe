// PostgreSQL's advisory locks as the per-volume lock of every process sharing the
// database: two lock holders stand for two API services.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { AdvisoryLocks } from '../../src/db/postgres/advisory-lock.js';
import { createTestDatabase, postgresSkip, type TestDatabase } from '../helpers/databases.js';
import pg from 'pg';

const delay = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe('advisory per-volume locks', { skip: postgresSkip }, () => {
  let database: TestDatabase;
  const holders: AdvisoryLocks[] = [];
  const holder = () => {
    const locks = new AdvisoryLocks(database.url);
    holders.push(locks);
    return locks;
  };
  before(async () => {
    database = await createTestDatabase('postgres');
  });
  after(async () => {
    for (const locks of holders) await locks.close().catch(() => undefined);
    await database.cleanup();
  });

  test('one key is held by one process at a time; other keys are not held up', async () => {
    const [first, second] = [holder(), holder()];
    const events: string[] = [];
    let releaseFirst!: () => void;
    const firstHolds = new Promise<void>((resolve) => (releaseFirst = resolve));
    let firstEntered!: () => void;
    const entered = new Promise<void>((resolve) => (firstEntered = resolve));
    const a = first.run('volume-1', async () => {
      events.push('first in');
      firstEntered();
      await firstHolds;
      events.push('first out');
    });
    await entered;
    const b = second.run('volume-1', async () => {
      events.push('second in');
    });
    // A different key goes through while volume-1 is held.
    await second.run('volume-2', async () => {
      events.push('other key');
    });
    await delay(100);
    assert.deepEqual(events, ['first in', 'other key'], 'the second process waits for volume-1');
    releaseFirst();
    await Promise.all([a, b]);
    assert.deepEqual(events, ['first in', 'other key', 'first out', 'second in']);
  });

  test('work that fails releases the lock, and its error reaches the caller', async () => {
    const [first, second] = [holder(), holder()];
    await assert.rejects(
      first.run('volume-3', async () => {
        throw new Error('step failed');
      }),
      /step failed/,
    );
    const got = await Promise.race([second.run('volume-3', async () => 'taken'), delay(2000).then(() => 'still held')]);
    assert.equal(got, 'taken');
  });

  test('a process that goes away loses its locks', async () => {
    const [first, second] = [holder(), holder()];
    let entered!: () => void;
    const inside = new Promise<void>((resolve) => (entered = resolve));
    let finish!: () => void;
    const unfinished = new Promise<void>((resolve) => (finish = resolve));
    const firstRun = first.run('volume-4', async () => {
      entered();
      await unfinished;
      return 'finished';
    });
    await inside;
    const waiting = second.run('volume-4', async () => 'taken');
    await delay(100);
    // Ends every session of the first holder, as the death of its process would.
    const admin = new pg.Client({ connectionString: database.url });
    await admin.connect();
    try {
      await admin.query(
        `select pg_terminate_backend(pid) from pg_locks where locktype = 'advisory' and granted and pid <> pg_backend_pid()`,
      );
    } finally {
      await admin.end();
    }
    assert.equal(await Promise.race([waiting, delay(5000).then(() => 'still held')]), 'taken');
    // The first holder's work still ends normally; its dead session is discarded, not reused.
    finish();
    assert.equal(await firstRun, 'finished');
    assert.equal(await first.run('volume-4', async () => 'again'), 'again');
  });

  test('many concurrent sections on many keys finish: lock sessions never starve the work', async () => {
    const [first, second] = [holder(), holder()];
    let inside = 0;
    let overlapped = false;
    const counters = new Map<string, number>();
    const section = (locks: AdvisoryLocks, key: string) =>
      locks.run(key, async () => {
        counters.set(key, (counters.get(key) ?? 0) + 1);
        if (counters.get(key)! > 1) overlapped = true;
        inside++;
        await delay(2);
        counters.set(key, counters.get(key)! - 1);
        inside--;
      });
    const work: Array<Promise<void>> = [];
    for (let i = 0; i < 200; i++) work.push(section(i % 2 ? first : second, `volume-k${i % 40}`));
    await Promise.all(work);
    assert.equal(overlapped, false, 'no key was held by two sections at once');
    assert.equal(inside, 0);
  });
});
