import { test } from 'node:test';
import assert from 'node:assert/strict';

import { RangeLock } from '../../../src/iscsi/scsi/range-lock.js';

const within = <T>(p: Promise<T>, ms: number): Promise<T | 'waiting'> =>
  Promise.race([p, new Promise<'waiting'>((r) => setTimeout(() => r('waiting'), ms))]);

test('overlapping holders run in arrival order; disjoint ones do not wait', async () => {
  const lock = new RangeLock();
  const order: string[] = [];
  const first = await lock.acquire(0, 10);
  const overlapping = lock.acquire(5, 15).then((unlock) => {
    order.push('overlapping');
    unlock();
  });
  // Overlaps only the second holder, which is still waiting: it must queue behind it.
  const chained = lock.acquire(12, 20).then((unlock) => {
    order.push('chained');
    unlock();
  });
  const free = await within(lock.acquire(100, 200), 50);
  assert.equal(typeof free, 'function', 'a disjoint range is granted at once');
  (free as () => void)();
  assert.equal(await within(overlapping, 20), 'waiting');
  assert.deepEqual(order, []);
  first();
  await Promise.all([overlapping, chained]);
  assert.deepEqual(order, ['overlapping', 'chained']);
  assert.equal(lock.size, 0);
});
