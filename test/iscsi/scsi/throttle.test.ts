import { test } from 'node:test';
import assert from 'node:assert/strict';
import { hasLimits, ThrottledLogicalUnit, type IoLimits } from '../../../src/iscsi/scsi/throttle.js';
import { ASC, SenseKey } from '../../../src/iscsi/scsi/sense.js';
import { A, assertGood, assertSense, command, fixture, pattern, read10, tur, write10 } from './helpers.js';

const BLOCK = 512;

/** Runs `count` commands at once (a deep queue) and returns the seconds until the last finished. */
async function burst(lu: ThrottledLogicalUnit, count: number, make: (i: number) => ReturnType<typeof command>): Promise<number> {
  const started = performance.now();
  const results = await Promise.all(Array.from({ length: count }, (_, i) => lu.execute(make(i))));
  for (const res of results) assertGood(res);
  return (performance.now() - started) / 1000;
}

const readCmd = (i: number, blocks = 1) => command(read10(i * blocks, blocks), { expectedLength: blocks * BLOCK });
const writeCmd = (i: number, blocks = 1) => command(write10(i * blocks, blocks), { data: pattern(blocks, i + 1) });

test('only a positive limit counts as one', () => {
  assert.equal(hasLimits(undefined), false);
  assert.equal(hasLimits({}), false);
  assert.equal(hasLimits({ total_iops_sec: 0 }), false);
  assert.equal(hasLimits({ read_bytes_sec: 1 }), true);
});

test('an IOPS limit spreads commands over time at the limit, and never refuses one', async (t) => {
  const { lu } = await fixture(t, 4096);
  const throttled = new ThrottledLogicalUnit(lu, { total_iops_sec: 200 });
  t.after(() => throttled.close());
  // 20 pass on the 0.1 s allowance, the other 180 at 200 per second: about 0.9 s.
  const seconds = await burst(throttled, 200, (i) => readCmd(i));
  assert.ok(seconds > 0.8 && seconds < 1.2, `${seconds} s`);
});

test('a bytes limit counts the transfer length; reads and writes draw on their own limits', async (t) => {
  const { lu } = await fixture(t, 8192);
  const limits: IoLimits = { write_bytes_sec: 64 * 8 * BLOCK, read_iops_sec: 1 };
  const throttled = new ThrottledLogicalUnit(lu, limits);
  t.after(() => throttled.close());
  // 64 writes of 8 blocks a second: 6.4 pass at once, the rest at the rate: about 0.4 s for 32.
  const seconds = await burst(throttled, 32, (i) => writeCmd(i, 8));
  assert.ok(seconds > 0.3 && seconds < 0.6, `${seconds} s`);
  // Commands that move no data pass at once, however busy the buckets are.
  const quick = throttled.execute(command(tur()));
  assert.ok(!(quick instanceof Promise), 'TEST UNIT READY answered at once');
});

test('new limits apply to the commands already waiting; close lets the rest through', async (t) => {
  const { lu } = await fixture(t, 4096);
  const throttled = new ThrottledLogicalUnit(lu, { read_iops_sec: 1 });
  const started = performance.now();
  const waiting = Promise.all(Array.from({ length: 50 }, (_, i) => throttled.execute(readCmd(i))));
  throttled.setLimits({ read_iops_sec: 1000 });
  for (const res of await waiting) assertGood(res);
  assert.ok(performance.now() - started < 500, 'raised limit released the queue');

  throttled.setLimits({ read_iops_sec: 1 });
  const stuck = Promise.all(Array.from({ length: 10 }, (_, i) => throttled.execute(readCmd(i))));
  await throttled.close();
  for (const res of await stuck) assertGood(res);
});

test('waiting commands whose task is aborted never run, at their turn or at a reset', async (t) => {
  const { lu } = await fixture(t, 4096);
  const throttled = new ThrottledLogicalUnit(lu, { write_iops_sec: 1 });
  t.after(() => throttled.close());
  const task = (): { aborted: boolean } => ({ aborted: false });
  const writeAt = (lba: number, state: { aborted: boolean }) => throttled.execute({ ...command(write10(lba, 1), { data: pattern(1, lba + 1) }), task: state });
  assertGood(await writeAt(0, task()));
  const [single, bySet, kept] = [task(), task(), task()];
  const singleDone = writeAt(1, single);
  const bySetDone = writeAt(2, bySet);
  const keptDone = writeAt(3, kept);
  // A task-set abort marks the tasks, then resets the unit: they go at once, ahead of their turn.
  bySet.aborted = true;
  throttled.reset('abort-task-set', A);
  assertSense(await bySetDone, SenseKey.ABORTED_COMMAND, ASC.NO_ADDITIONAL_SENSE);
  // An ABORT TASK tells the unit nothing: the command is dropped when its turn comes.
  single.aborted = true;
  assertSense(await singleDone, SenseKey.ABORTED_COMMAND, ASC.NO_ADDITIONAL_SENSE);
  assertGood(await keptDone);
  const data = assertGood(await lu.execute(command(read10(0, 4), { expectedLength: 4 * BLOCK })));
  assert.deepEqual(data.subarray(BLOCK, 3 * BLOCK), Buffer.alloc(2 * BLOCK), 'aborted writes left no data');
  assert.deepEqual(data.subarray(3 * BLOCK), pattern(1, 4));
});
