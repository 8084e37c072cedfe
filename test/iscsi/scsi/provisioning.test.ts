import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFile, stat } from 'node:fs/promises';

import { SenseKey, ASC } from '../../../src/iscsi/scsi/sense.js';
import { assertGood, assertSense, cdb, fixture, pattern, read10, run, u16, u32, u64, write10 } from './helpers.js';

const MiB_BLOCKS = 2048;

function unmapList(ranges: [number, number][]): Buffer {
  const p = Buffer.alloc(8 + 16 * ranges.length);
  p.writeUInt16BE(p.length - 2, 0);
  p.writeUInt16BE(16 * ranges.length, 2);
  ranges.forEach(([lba, n], i) => {
    p.writeBigUInt64BE(BigInt(lba), 8 + 16 * i);
    p.writeUInt32BE(n, 16 + 16 * i);
  });
  return p;
}
const unmapCdb = (len: number) => cdb([0x42, 0, 0, 0, 0, 0, 0, ...u16(len), 0]);
const getLbaStatus = (lba: number, alloc = 4096) => cdb([0x9e, 0x12, ...u64(lba), ...u32(alloc), 0, 0]);
const writeSame10 = (lba: number, n: number, flags = 0) => cdb([0x41, flags, ...u32(lba), 0, ...u16(n), 0]);
const writeSame16 = (lba: number, n: number, flags = 0) => cdb([0x93, flags, ...u64(lba), ...u32(n), 0, 0]);

async function allocatedBytes(path: string): Promise<number> {
  return (await stat(path)).blocks * 512;
}

function lbaStatus(d: Buffer): { lba: number; count: number; status: number }[] {
  const out = [];
  for (let o = 8; o + 16 <= d.length; o += 16) out.push({ lba: Number(d.readBigUInt64BE(o)), count: d.readUInt32BE(o + 8), status: d[o + 12] & 0x0f });
  return out;
}

test('UNMAP punches holes in the file, and the blocks read back as zeroes', async (t) => {
  const { lu, path } = await fixture(t, 8 * MiB_BLOCKS);
  const data = pattern(4 * MiB_BLOCKS, 1);
  assertGood(await run(lu, write10(0, 4 * MiB_BLOCKS), { data }));
  assertGood(await run(lu, cdb([0x35, 0, 0, 0, 0, 0, 0, 0, 0, 0])));
  const before = await allocatedBytes(path);
  assert.ok(before >= 4 << 20, `expected the written data to be allocated, got ${before}`);
  const list = unmapList([
    [0, 2 * MiB_BLOCKS],
    [3 * MiB_BLOCKS, MiB_BLOCKS],
  ]);
  assertGood(await run(lu, unmapCdb(list.length), { data: list }));
  const after = await allocatedBytes(path);
  assert.ok(after <= before - (3 << 20), `expected 3 MiB fewer allocated bytes: ${before} -> ${after}`);
  assert.deepEqual(assertGood(await run(lu, read10(0, 64))), Buffer.alloc(64 * 512));
  const kept = 2 * MiB_BLOCKS * 512;
  assert.deepEqual(assertGood(await run(lu, read10(2 * MiB_BLOCKS, 8))), data.subarray(kept, kept + 8 * 512));
  const file = await readFile(path);
  assert.deepEqual(file.subarray(3 * MiB_BLOCKS * 512, 4 * MiB_BLOCKS * 512), Buffer.alloc(MiB_BLOCKS * 512));
});

test('UNMAP validates its parameter list and LBA ranges', async (t) => {
  const { lu } = await fixture(t, 1024);
  assertGood(await run(lu, unmapCdb(0)));
  const zero = unmapList([[5, 0]]);
  assertGood(await run(lu, unmapCdb(zero.length), { data: zero }));
  const beyond = unmapList([[1020, 8]]);
  assertSense(await run(lu, unmapCdb(beyond.length), { data: beyond }), SenseKey.ILLEGAL_REQUEST, ASC.LBA_OUT_OF_RANGE);
  assertSense(await run(lu, unmapCdb(4), { data: Buffer.alloc(4) }), SenseKey.ILLEGAL_REQUEST, ASC.PARAMETER_LIST_LENGTH_ERROR);
  assertSense(await run(lu, cdb([0x42, 1, 0, 0, 0, 0, 0, 0, 24, 0]), { data: unmapList([[0, 1]]) }), SenseKey.ILLEGAL_REQUEST, ASC.INVALID_FIELD_IN_CDB);
});

test('GET LBA STATUS reports written blocks as mapped and unmapped ones as deallocated', async (t) => {
  const { lu } = await fixture(t, 4 * MiB_BLOCKS);
  assertGood(await run(lu, write10(MiB_BLOCKS, 16), { data: pattern(16, 4) }));
  const first = lbaStatus(assertGood(await run(lu, getLbaStatus(0))));
  assert.equal(first[0].lba, 0);
  assert.equal(first[0].status, 1, 'the untouched start of a sparse file is deallocated');
  const mapped = lbaStatus(assertGood(await run(lu, getLbaStatus(MiB_BLOCKS))));
  assert.equal(mapped[0].lba, MiB_BLOCKS);
  assert.equal(mapped[0].status, 0);
  assert.ok(mapped[0].count >= 16);
  const list = unmapList([[MiB_BLOCKS, 16]]);
  assertGood(await run(lu, unmapCdb(list.length), { data: list }));
  const after = lbaStatus(assertGood(await run(lu, getLbaStatus(MiB_BLOCKS))));
  assert.equal(after[0].lba, MiB_BLOCKS);
  assert.equal(after[0].status, 1);
  assertSense(await run(lu, getLbaStatus(4 * MiB_BLOCKS)), SenseKey.ILLEGAL_REQUEST, ASC.LBA_OUT_OF_RANGE);
  const short = assertGood(await run(lu, getLbaStatus(0, 24)));
  assert.equal(short.length, 24);
});

test('WRITE SAME(10/16) replicates one block, and with UNMAP and zeroes deallocates', async (t) => {
  const { lu, path } = await fixture(t, 4 * MiB_BLOCKS);
  const block = pattern(1, 6);
  assertGood(await run(lu, writeSame10(10, 100), { data: block, expectedLength: 512 }));
  const data = assertGood(await run(lu, read10(10, 100)));
  for (let i = 0; i < 100; i++) assert.deepEqual(data.subarray(i * 512, (i + 1) * 512), block);
  assertGood(await run(lu, writeSame16(MiB_BLOCKS, MiB_BLOCKS), { data: Buffer.alloc(512, 0x5a), expectedLength: 512 }));
  const before = await allocatedBytes(path);
  assertGood(await run(lu, writeSame16(MiB_BLOCKS, MiB_BLOCKS, 0x08), { data: Buffer.alloc(512), expectedLength: 512 }));
  assert.ok((await allocatedBytes(path)) <= before - (1 << 20) + 8192);
  assert.deepEqual(assertGood(await run(lu, read10(MiB_BLOCKS, 8))), Buffer.alloc(8 * 512));
  // With UNMAP the pattern does not matter: the blocks are deallocated and read as zeroes (LBPRZ).
  assertGood(await run(lu, writeSame10(10, 2, 0x08), { data: block, expectedLength: 512 }));
  assert.deepEqual(assertGood(await run(lu, read10(10, 2))), Buffer.alloc(1024));
  // NDOB: no data-out buffer, zeroes.
  assertGood(await run(lu, writeSame16(10, 4, 0x09)));
  assert.deepEqual(assertGood(await run(lu, read10(10, 4))), Buffer.alloc(4 * 512));
});

test('WRITE SAME validates its data and range; zero blocks means through the end', async (t) => {
  const { lu } = await fixture(t, 256);
  assertSense(await run(lu, writeSame10(250, 10), { data: pattern(1, 1) }), SenseKey.ILLEGAL_REQUEST, ASC.LBA_OUT_OF_RANGE);
  assertSense(await run(lu, writeSame10(0, 1), { data: pattern(2, 1) }), SenseKey.ILLEGAL_REQUEST, ASC.INVALID_FIELD_IN_CDB);
  assertSense(await run(lu, writeSame10(0, 1, 0x10), { data: pattern(1, 1) }), SenseKey.ILLEGAL_REQUEST, ASC.INVALID_FIELD_IN_CDB);
  const block = Buffer.alloc(512, 0x77);
  assertGood(await run(lu, writeSame10(200, 0), { data: block }));
  const tail = assertGood(await run(lu, read10(200, 56)));
  assert.deepEqual(tail, Buffer.alloc(56 * 512, 0x77));
});

test('a thick unit refuses WRITE SAME with UNMAP but still writes patterns', async (t) => {
  const { lu } = await fixture(t, 256, { thinProvisioning: false });
  assertSense(await run(lu, writeSame10(0, 4, 0x08), { data: Buffer.alloc(512) }), SenseKey.ILLEGAL_REQUEST, ASC.INVALID_FIELD_IN_CDB);
  assertGood(await run(lu, writeSame10(0, 4), { data: Buffer.alloc(512, 1) }));
  assertSense(await run(lu, getLbaStatus(0)), SenseKey.ILLEGAL_REQUEST, ASC.INVALID_FIELD_IN_CDB);
});

test('without hole punching UNMAP writes zeroes and GET LBA STATUS says mapped, both still true', async (t) => {
  const { lu, path } = await fixture(t, 4 * MiB_BLOCKS, { punchHoles: false });
  assertGood(await run(lu, write10(0, MiB_BLOCKS), { data: pattern(MiB_BLOCKS, 8) }));
  const before = await allocatedBytes(path);
  const list = unmapList([[0, MiB_BLOCKS]]);
  assertGood(await run(lu, unmapCdb(list.length), { data: list }));
  assert.deepEqual(assertGood(await run(lu, read10(0, 128))), Buffer.alloc(128 * 512));
  assert.ok((await allocatedBytes(path)) >= before, 'no hole was punched');
  const status = lbaStatus(assertGood(await run(lu, getLbaStatus(0))));
  assert.deepEqual(status, [{ lba: 0, count: 4 * MiB_BLOCKS, status: 0 }]);
  const limits = assertGood(await run(lu, cdb([0x12, 1, 0xb2, 0, 64, 0])));
  assert.ok(limits[5] & 0x04, 'LBPRZ: unmapped blocks read as zeroes either way');
});
