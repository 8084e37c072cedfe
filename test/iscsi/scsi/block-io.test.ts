import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFile, open } from 'node:fs/promises';
import fs from 'node:fs';

import { SenseKey, ASC } from '../../../src/iscsi/scsi/sense.js';
import {
  A,
  assertGood,
  assertSense,
  cdb,
  fixture,
  pattern,
  read10,
  read12,
  read16,
  read6,
  run,
  u16,
  u32,
  u64,
  write10,
  write12,
  write16,
  write6,
} from './helpers.js';

test('every READ/WRITE size round-trips through the file at the right offset', async (t) => {
  const { lu, path } = await fixture(t, 4096);
  const cases = [
    { w: write6(3, 2), r: read6(3, 2), lba: 3, n: 2 },
    { w: write10(100, 8), r: read10(100, 8), lba: 100, n: 8 },
    { w: write12(1000, 3), r: read12(1000, 3), lba: 1000, n: 3 },
    { w: write16(4095, 1), r: read16(4095, 1), lba: 4095, n: 1 },
  ];
  for (const [i, c] of cases.entries()) {
    const data = pattern(c.n, i + 1);
    assertGood(await run(lu, c.w, { data }));
    assert.deepEqual(assertGood(await run(lu, c.r)), data);
    const file = await readFile(path);
    assert.deepEqual(file.subarray(c.lba * 512, (c.lba + c.n) * 512), data);
  }
});

test('READ(6) and WRITE(6) treat a length of 0 as 256 blocks', async (t) => {
  const { lu } = await fixture(t, 1024);
  const data = pattern(256, 9);
  assertGood(await run(lu, write6(10, 0), { data }));
  assert.deepEqual(assertGood(await run(lu, read6(10, 0))), data);
});

test('unwritten blocks of the sparse file read as zeroes', async (t) => {
  const { lu } = await fixture(t, 64);
  assert.deepEqual(assertGood(await run(lu, read10(5, 4))), Buffer.alloc(2048));
});

test('zero-block transfers succeed without data', async (t) => {
  const { lu } = await fixture(t, 64);
  for (const c of [read10(0, 0), read12(0, 0), read16(0, 0), write10(0, 0), write16(0, 0)]) {
    const res = await run(lu, c);
    assert.equal(res.status, 0);
    assert.equal(res.data?.length ?? 0, 0);
  }
});

test('transfers beyond the last block get LBA OUT OF RANGE, including 64-bit overflow', async (t) => {
  const { lu } = await fixture(t, 64);
  const data = pattern(2, 1);
  for (const c of [read10(63, 2), read10(64, 1), read16(2 ** 53, 1), read12(0xffffffff, 1), read6(64, 1)]) {
    assertSense(await run(lu, c), SenseKey.ILLEGAL_REQUEST, ASC.LBA_OUT_OF_RANGE);
  }
  assertSense(await run(lu, write10(63, 2), { data }), SenseKey.ILLEGAL_REQUEST, ASC.LBA_OUT_OF_RANGE);
  const huge = cdb([0x88, 0, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0, 0, 0, 1, 0, 0]);
  assertSense(await run(lu, huge), SenseKey.ILLEGAL_REQUEST, ASC.LBA_OUT_OF_RANGE);
});

test('RDPROTECT/WRPROTECT without protection information are invalid fields', async (t) => {
  const { lu } = await fixture(t, 64);
  assertSense(await run(lu, read10(0, 1, 0x20)), SenseKey.ILLEGAL_REQUEST, ASC.INVALID_FIELD_IN_CDB);
  assertSense(await run(lu, write16(0, 1, 0x40), { data: pattern(1, 1) }), SenseKey.ILLEGAL_REQUEST, ASC.INVALID_FIELD_IN_CDB);
});

test('a transfer larger than the advertised maximum is refused, not buffered', async (t) => {
  const { lu } = await fixture(t, 131072);
  const limits = assertGood(await run(lu, cdb([0x12, 1, 0xb0, 0, 0xff, 0])));
  const max = limits.readUInt32BE(8);
  assert.ok(max > 0);
  assertSense(await run(lu, read16(0, max + 1)), SenseKey.ILLEGAL_REQUEST, ASC.INVALID_FIELD_IN_CDB);
  assert.equal(assertGood(await run(lu, read16(0, Math.min(max, 65536)))).length, Math.min(max, 65536) * 512);
});

test('a WRITE whose expected transfer length is short writes only the bytes sent', async (t) => {
  const { lu, path } = await fixture(t, 64);
  const old = Buffer.alloc(1024, 0x61);
  assertGood(await run(lu, write10(0, 2), { data: old }));
  assertGood(await run(lu, write10(0, 2), { data: Buffer.alloc(200, 0x62), expectedLength: 200 }));
  const file = (await readFile(path)).subarray(0, 1024);
  assert.deepEqual(file.subarray(0, 200), Buffer.alloc(200, 0x62));
  assert.deepEqual(file.subarray(200), Buffer.alloc(824, 0x61));
  const none = await run(lu, write10(0, 1), { expectedLength: 0 });
  assertGood(none);
  assert.equal(none.transferLength, 512, 'the transport needs the CDB length for the overflow residual');
  assert.deepEqual((await readFile(path)).subarray(0, 200), Buffer.alloc(200, 0x62));
  assert.equal((await run(lu, write10(0, 0), { data: Buffer.alloc(512), expectedLength: 512 })).transferLength, 0);
});

test('FUA writes and SYNCHRONIZE CACHE return GOOD with the data in the file', async (t) => {
  const { lu, path } = await fixture(t, 64);
  const data = pattern(4, 5);
  assertGood(await run(lu, write10(8, 4, 0x08), { data }));
  assertGood(await run(lu, cdb([0x35, 0, 0, 0, 0, 0, 0, 0, 0, 0])));
  assertGood(await run(lu, cdb([0x91, 0, ...u64(0), ...u32(64), 0, 0])));
  const fh = await open(path, 'r');
  try {
    const buf = Buffer.alloc(2048);
    await fh.read(buf, 0, 2048, 8 * 512);
    assert.deepEqual(buf, data);
  } finally {
    await fh.close();
  }
  assertSense(await run(lu, cdb([0x35, 0, ...u32(64), 0, ...u16(1), 0])), SenseKey.ILLEGAL_REQUEST, ASC.LBA_OUT_OF_RANGE);
});

test('reads from many nexuses run concurrently and all see the same data', async (t) => {
  const { lu } = await fixture(t, 4096);
  const data = pattern(64, 11);
  assertGood(await run(lu, write10(0, 64), { data }));
  const reads = Array.from({ length: 32 }, (_, i) =>
    run(lu, read10(i, 8), { nexus: { ...A, id: `n${i}` } }).then((r) => assert.deepEqual(assertGood(r), data.subarray(i * 512, (i + 8) * 512))),
  );
  await Promise.all(reads);
});

test('overlapping writes land in submission order', async (t) => {
  const { lu } = await fixture(t, 256);
  const writes = Array.from({ length: 20 }, (_, i) => run(lu, write10(0, 16), { data: Buffer.alloc(16 * 512, i + 1) }));
  for (const w of await Promise.all(writes)) assertGood(w);
  assert.deepEqual(assertGood(await run(lu, read10(0, 16))), Buffer.alloc(16 * 512, 20));
});

test('4096-byte logical blocks address the file in 4 KiB units', async (t) => {
  const { lu, path } = await fixture(t, 16, { blockSize: 4096 });
  const data = pattern(1, 2, 4096);
  assertGood(await run(lu, write10(3, 1), { data }));
  assert.deepEqual((await readFile(path)).subarray(3 * 4096, 4 * 4096), data);
  const cap = assertGood(await run(lu, cdb([0x25, 0, 0, 0, 0, 0, 0, 0, 0, 0])));
  assert.equal(cap.readUInt32BE(0), 15);
  assert.equal(cap.readUInt32BE(4), 4096);
});

test('many concurrent FUA writes share fdatasyncs and all land', async (t) => {
  const { lu, path } = await fixture(t, 1024);
  const original = fs.fdatasync;
  let syncs = 0;
  let synced = 0;
  fs.fdatasync = ((fd: number, done: (err: NodeJS.ErrnoException | null) => void) => {
    syncs++;
    setTimeout(
      () =>
        original(fd, (err) => {
          synced++;
          done(err);
        }),
      5,
    );
  }) as typeof fs.fdatasync;
  t.after(() => {
    fs.fdatasync = original;
  });
  const writes = Array.from({ length: 64 }, (_, i) => run(lu, write10(i * 8, 8, 0x08), { data: Buffer.alloc(4096, i + 1) }));
  for (const w of await Promise.all(writes)) assertGood(w);
  const file = await readFile(path);
  for (let i = 0; i < 64; i++) assert.deepEqual(file.subarray(i * 4096, (i + 1) * 4096), Buffer.alloc(4096, i + 1));
  assert.ok(syncs >= 1 && syncs < 64, `${syncs} fdatasyncs for 64 FUA writes`);
  const before = syncs;
  assertGood(await run(lu, cdb([0x35, 0, 0, 0, 0, 0, 0, 0, 0, 0])));
  assert.equal(syncs, before + 1, 'SYNCHRONIZE CACHE syncs');
  assert.equal(synced, syncs, 'GOOD comes only after fdatasync has finished');
});
