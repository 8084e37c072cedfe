import { test } from 'node:test';
import assert from 'node:assert/strict';

import { SenseKey, ASC } from '../../../src/iscsi/scsi/sense.js';
import { assertGood, assertSense, cdb, fixture, pattern, read10, run, u16, u32, u64, write10 } from './helpers.js';

const caw = (lba: number, n: number, flags = 0) => cdb([0x89, flags, ...u64(lba), 0, 0, 0, n, 0, 0]);
const verify10 = (lba: number, n: number, bytchk: number) => cdb([0x2f, bytchk << 1, ...u32(lba), 0, ...u16(n), 0]);
const verify16 = (lba: number, n: number, bytchk: number) => cdb([0x8f, bytchk << 1, ...u64(lba), ...u32(n), 0, 0]);
const writeVerify12 = (lba: number, n: number) => cdb([0xae, 0x02, ...u32(lba), ...u32(n), 0, 0]);
const orwrite = (lba: number, n: number) => cdb([0x8b, 0, ...u64(lba), ...u32(n), 0, 0]);

test('COMPARE AND WRITE writes when the data matches and reports the first differing byte when not', async (t) => {
  const { lu } = await fixture(t, 256);
  const old = pattern(2, 1);
  const next = pattern(2, 2);
  assertGood(await run(lu, write10(10, 2), { data: old }));
  assertGood(await run(lu, caw(10, 2), { data: Buffer.concat([old, next]) }));
  assert.deepEqual(assertGood(await run(lu, read10(10, 2))), next);

  const wrong = Buffer.from(next);
  wrong[700] ^= 0xff;
  const s = assertSense(await run(lu, caw(10, 2), { data: Buffer.concat([wrong, old]) }), SenseKey.MISCOMPARE, ASC.MISCOMPARE_DURING_VERIFY);
  assert.equal(s.information, 700);
  assert.deepEqual(assertGood(await run(lu, read10(10, 2))), next, 'a miscompare writes nothing');
});

test('COMPARE AND WRITE checks its length, range and Data-Out size', async (t) => {
  const { lu } = await fixture(t, 256);
  assertSense(await run(lu, caw(255, 2), { data: Buffer.alloc(2048) }), SenseKey.ILLEGAL_REQUEST, ASC.LBA_OUT_OF_RANGE);
  assertSense(await run(lu, caw(0, 1), { data: Buffer.alloc(512) }), SenseKey.ILLEGAL_REQUEST, ASC.INVALID_FIELD_IN_CDB);
  assertSense(await run(lu, caw(0, 0), { data: Buffer.alloc(1024) }), SenseKey.ILLEGAL_REQUEST, ASC.INVALID_FIELD_IN_CDB);
  assertGood(await run(lu, caw(0, 0)));
  const limits = assertGood(await run(lu, cdb([0x12, 1, 0xb0, 0, 64, 0])));
  assert.equal(limits[5], 255);
});

test('concurrent COMPARE AND WRITEs on one range are atomic: exactly one of N wins', async (t) => {
  const { lu } = await fixture(t, 64);
  const initial = Buffer.alloc(4096, 0);
  assertGood(await run(lu, write10(8, 8), { data: initial }));
  const attempts = Array.from({ length: 16 }, (_, i) =>
    run(lu, caw(8, 8), { data: Buffer.concat([initial, Buffer.alloc(4096, i + 1)]), nexus: { id: `n${i}`, initiatorName: 'x', initiatorPortName: 'x,i,0x1' } }),
  );
  const results = await Promise.all(attempts);
  const winners = results.filter((r) => r.status === 0);
  assert.equal(winners.length, 1);
  const after = assertGood(await run(lu, read10(8, 8)));
  assert.equal(new Set(after).size, 1, 'the range holds one writer’s data, not a mix');
  assert.notEqual(after[0], 0);
});

test('VERIFY: BYTCHK 0 checks the range, 1 compares every block, 3 compares one block against all', async (t) => {
  const { lu } = await fixture(t, 128);
  const data = pattern(4, 3);
  assertGood(await run(lu, write10(20, 4), { data }));
  assertGood(await run(lu, verify10(20, 4, 0)));
  assertSense(await run(lu, verify10(127, 2, 0)), SenseKey.ILLEGAL_REQUEST, ASC.LBA_OUT_OF_RANGE);
  assertGood(await run(lu, verify16(20, 4, 1), { data }));
  const bad = Buffer.from(data);
  bad[1500] ^= 1;
  const s = assertSense(await run(lu, verify16(20, 4, 1), { data: bad }), SenseKey.MISCOMPARE, ASC.MISCOMPARE_DURING_VERIFY);
  assert.equal(s.information, 1500);
  const same = Buffer.alloc(512, 0x33);
  assertGood(await run(lu, write10(40, 3), { data: Buffer.alloc(1536, 0x33) }));
  assertGood(await run(lu, verify10(40, 3, 3), { data: same }));
  assertSense(await run(lu, verify10(39, 3, 3), { data: same }), SenseKey.MISCOMPARE, ASC.MISCOMPARE_DURING_VERIFY);
  assertSense(await run(lu, verify10(40, 1, 2)), SenseKey.ILLEGAL_REQUEST, ASC.INVALID_FIELD_IN_CDB);
  assertSense(await run(lu, cdb([0x2f, 0x20, 0, 0, 0, 0, 0, 0, 1, 0])), SenseKey.ILLEGAL_REQUEST, ASC.INVALID_FIELD_IN_CDB);
});

test('WRITE AND VERIFY writes the data; ORWRITE ORs it into what is there', async (t) => {
  const { lu } = await fixture(t, 64);
  const data = pattern(2, 4);
  assertGood(await run(lu, writeVerify12(3, 2), { data }));
  assert.deepEqual(assertGood(await run(lu, read10(3, 2))), data);
  assertGood(await run(lu, write10(10, 1), { data: Buffer.alloc(512, 0x0f) }));
  assertGood(await run(lu, orwrite(10, 1), { data: Buffer.alloc(512, 0xf0) }));
  assert.deepEqual(assertGood(await run(lu, read10(10, 1))), Buffer.alloc(512, 0xff));
  assertSense(await run(lu, orwrite(64, 1), { data: Buffer.alloc(512) }), SenseKey.ILLEGAL_REQUEST, ASC.LBA_OUT_OF_RANGE);
});

test('PRE-FETCH 10/16 accept in-range blocks and refuse the rest', async (t) => {
  const { lu } = await fixture(t, 64);
  assertGood(await run(lu, cdb([0x34, 0, ...u32(0), 0, ...u16(64), 0])));
  assertGood(await run(lu, cdb([0x90, 0x02, ...u64(63), ...u32(1), 0, 0])));
  assertSense(await run(lu, cdb([0x34, 0, ...u32(60), 0, ...u16(5), 0])), SenseKey.ILLEGAL_REQUEST, ASC.LBA_OUT_OF_RANGE);
  assertSense(await run(lu, cdb([0x90, 0, ...u64(64), ...u32(1), 0, 0])), SenseKey.ILLEGAL_REQUEST, ASC.LBA_OUT_OF_RANGE);
});
