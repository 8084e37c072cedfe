import { test } from 'node:test';
import assert from 'node:assert/strict';

import { SenseKey, ASC } from '../../../src/iscsi/scsi/sense.js';
import { A, B, assertGood, assertSense, cdb, fixture, pattern, read10, run, tur, u16, u32, write10 } from './helpers.js';

const rsocAll = (rctd = false) => cdb([0xa3, 0x0c, rctd ? 0x80 : 0, 0, 0, 0, ...u32(8192), 0, 0]);
const rsocOne = (op: number, sa?: number, rctd = false) =>
  cdb([0xa3, 0x0c, (rctd ? 0x80 : 0) | (sa === undefined ? 1 : 2), op, ...u16(sa ?? 0), ...u32(512), 0, 0]);

test('REPORT SUPPORTED OPERATION CODES lists every command, each of which then answers "supported"', async (t) => {
  const { lu } = await fixture(t);
  const all = assertGood(await run(lu, rsocAll()));
  const length = all.readUInt32BE(0);
  assert.equal(length, all.length - 4);
  const entries: { op: number; sa?: number; cdbLength: number }[] = [];
  for (let o = 4; o < all.length; o += 8) {
    const servactv = (all[o + 5] & 1) === 1;
    entries.push({ op: all[o], ...(servactv ? { sa: all.readUInt16BE(o + 2) } : {}), cdbLength: all.readUInt16BE(o + 6) });
  }
  const ops = new Set(entries.map((e) => e.op));
  for (const op of [0x00, 0x12, 0x25, 0x28, 0x2a, 0x35, 0x41, 0x42, 0x88, 0x89, 0x8a, 0x9e, 0xa0, 0xa3, 0x5e, 0x5f]) assert.ok(ops.has(op), `opcode ${op}`);
  for (const e of entries) {
    const one = assertGood(await run(lu, rsocOne(e.op, e.sa)));
    assert.equal(one[1] & 0x07, 3, `opcode ${e.op.toString(16)} supported`);
    assert.equal(one.readUInt16BE(2), e.cdbLength);
    assert.equal(one[4], e.op, 'CDB usage data starts with the opcode');
    // Every command in the list must be executable: it is never INVALID COMMAND OPERATION CODE.
    const probe = Buffer.alloc(e.cdbLength);
    probe[0] = e.op;
    if (e.sa !== undefined) probe[1] = e.sa;
    const res = await run(lu, probe);
    if (res.sense) assert.notDeepEqual([res.sense[12], res.sense[13]], [0x20, 0x00], `opcode ${e.op.toString(16)}`);
  }
  const withTimeouts = assertGood(await run(lu, rsocAll(true)));
  assert.equal(withTimeouts.readUInt32BE(0), entries.length * 20);
  const oneTimeout = assertGood(await run(lu, rsocOne(0x28, undefined, true)));
  assert.ok(oneTimeout[1] & 0x80);
  assert.equal(oneTimeout.length, 4 + 10 + 12);
  assert.equal(assertGood(await run(lu, rsocOne(0xe7)))[1] & 0x07, 1, 'unsupported opcode');
  assertSense(await run(lu, rsocOne(0x9e)), SenseKey.ILLEGAL_REQUEST, ASC.INVALID_FIELD_IN_CDB);
  assertSense(await run(lu, rsocOne(0x28, 0)), SenseKey.ILLEGAL_REQUEST, ASC.INVALID_FIELD_IN_CDB);
});

test('START STOP UNIT is accepted and leaves the unit ready for every initiator', async (t) => {
  const { lu } = await fixture(t);
  assertGood(await run(lu, cdb([0x1b, 0, 0, 0, 0x00, 0])));
  assertGood(await run(lu, tur(), { nexus: B }));
  assertGood(await run(lu, read10(0, 1), { nexus: B }));
  assertGood(await run(lu, cdb([0x1b, 1, 0, 0, 0x01, 0])));
  assertSense(await run(lu, cdb([0x1b, 0, 0, 0, 0x02, 0])), SenseKey.ILLEGAL_REQUEST, ASC.INVALID_FIELD_IN_CDB);
});

function cachingSelect(wce: boolean, ten = false): { c: Buffer; data: Buffer } {
  const page = Buffer.alloc(20);
  page[0] = 0x08;
  page[1] = 0x12;
  page[2] = wce ? 0x04 : 0;
  const header = Buffer.alloc(ten ? 8 : 4);
  const data = Buffer.concat([header, page]);
  const c = ten ? cdb([0x55, 0x10, 0, 0, 0, 0, 0, ...u16(data.length), 0]) : cdb([0x15, 0x10, 0, 0, data.length, 0]);
  return { c, data };
}

test('MODE SELECT turns the write cache off and on, tells other nexuses, and refuses fixed bits', async (t) => {
  const { lu } = await fixture(t);
  assertGood(await run(lu, tur(), { nexus: B }));
  const off = cachingSelect(false);
  assertGood(await run(lu, off.c, { data: off.data }));
  const sense = assertGood(await run(lu, cdb([0x1a, 0x08, 0x08, 0, 255, 0])));
  assert.equal(sense[4 + 2] & 0x04, 0, 'WCE now off');
  assertSense(await run(lu, tur(), { nexus: B }), SenseKey.UNIT_ATTENTION, ASC.MODE_PARAMETERS_CHANGED);
  assertGood(await run(lu, tur(), { nexus: B }));
  // With the cache off every write is durable before GOOD; it still lands in the file.
  assertGood(await run(lu, write10(0, 1), { data: pattern(1, 1) }));
  assert.deepEqual(assertGood(await run(lu, read10(0, 1))), pattern(1, 1));
  const on = cachingSelect(true, true);
  assertGood(await run(lu, on.c, { data: on.data }));
  assert.ok(assertGood(await run(lu, cdb([0x1a, 0x08, 0x08, 0, 255, 0])))[4 + 2] & 0x04);

  // A LUN reset raises its unit attention but leaves the initiator's choice of WCE alone.
  const offAgain = cachingSelect(false);
  assertGood(await run(lu, offAgain.c, { data: offAgain.data }));
  lu.reset('lun-reset', A);
  assertSense(await run(lu, tur()), SenseKey.UNIT_ATTENTION, ASC.BUS_DEVICE_RESET);
  assert.equal(assertGood(await run(lu, cdb([0x1a, 0x08, 0x08, 0, 255, 0])))[4 + 2] & 0x04, 0, 'WCE still off after the reset');

  const bad = cachingSelect(true);
  bad.data[4 + 3] = 0xff; // not changeable
  assertSense(await run(lu, bad.c, { data: bad.data }), SenseKey.ILLEGAL_REQUEST, ASC.INVALID_FIELD_IN_PARAMETER_LIST);
  const sp = cachingSelect(true);
  assertSense(await run(lu, cdb([0x15, 0x11, 0, 0, sp.data.length, 0]), { data: sp.data }), SenseKey.ILLEGAL_REQUEST, ASC.SAVING_PARAMETERS_NOT_SUPPORTED);
  assertSense(await run(lu, cdb([0x15, 0x10, 0, 0, 40, 0]), { data: Buffer.alloc(10) }), SenseKey.ILLEGAL_REQUEST, ASC.PARAMETER_LIST_LENGTH_ERROR);
});

test('MODE SELECT of the control page SWP write-protects the unit for everyone', async (t) => {
  const { lu } = await fixture(t);
  const page = Buffer.alloc(12);
  page[0] = 0x0a;
  page[1] = 0x0a;
  page[3] = 0x10;
  page[4] = 0x08;
  page.writeUInt16BE(0xffff, 8);
  const data = Buffer.concat([Buffer.alloc(4), page]);
  assertGood(await run(lu, cdb([0x15, 0x10, 0, 0, data.length, 0]), { data }));
  assert.ok(assertGood(await run(lu, cdb([0x1a, 0, 0x3f, 0, 255, 0]), { nexus: B }))[2] & 0x80);
  const res = await run(lu, write10(0, 1), { data: pattern(1, 1) });
  assert.equal(res.status, 2);
  assert.equal(res.sense![2] & 0x0f, SenseKey.DATA_PROTECT);
  page[4] = 0;
  assertGood(await run(lu, cdb([0x15, 0x10, 0, 0, data.length, 0]), { data: Buffer.concat([Buffer.alloc(4), page]) }));
  assertGood(await run(lu, write10(0, 1), { data: pattern(1, 1) }));
});

test('unit attentions: LUN reset, resize, and only the oldest per command; INQUIRY does not consume them', async (t) => {
  const { lu, path } = await fixture(t, 64);
  assertGood(await run(lu, tur(), { nexus: A }));
  assertGood(await run(lu, tur(), { nexus: B }));
  lu.reset('lun-reset', A);
  const { truncate } = await import('node:fs/promises');
  await truncate(path, 128 * 512);
  await lu.resized();
  assert.equal(lu.capacity, 128);
  assertGood(await run(lu, cdb([0x12, 0, 0, 0, 36, 0]), { nexus: A }));
  assertSense(await run(lu, read10(0, 1), { nexus: A }), SenseKey.UNIT_ATTENTION, ASC.BUS_DEVICE_RESET);
  assertSense(await run(lu, tur(), { nexus: A }), SenseKey.UNIT_ATTENTION, ASC.CAPACITY_DATA_HAS_CHANGED);
  assertGood(await run(lu, tur(), { nexus: A }));
  const cap = assertGood(await run(lu, cdb([0x25, 0, 0, 0, 0, 0, 0, 0, 0, 0]), { nexus: A }));
  assert.equal(cap.readUInt32BE(0), 127);
  assertGood(await run(lu, read10(127, 1), { nexus: A }));
  assertSense(await run(lu, tur(), { nexus: B }), SenseKey.UNIT_ATTENTION, ASC.BUS_DEVICE_RESET);
  assertSense(await run(lu, tur(), { nexus: B }), SenseKey.UNIT_ATTENTION, ASC.CAPACITY_DATA_HAS_CHANGED);
  assertGood(await run(lu, tur(), { nexus: B }));
  // A nexus that never sent a command starts clean: no power-on attention is required of us.
  assertGood(await run(lu, tur(), { nexus: { ...A, id: 'fresh' } }));
});

test('a resize to the same size raises nothing; a lost nexus forgets its attentions', async (t) => {
  const { lu } = await fixture(t, 64);
  assertGood(await run(lu, tur()));
  await lu.resized();
  assertGood(await run(lu, tur()));
  lu.reset('target-warm-reset', A);
  lu.nexusLost(A);
  assertGood(await run(lu, tur()));
});

test('execute() after close() answers NOT READY instead of throwing', async (t) => {
  const { lu } = await fixture(t, 64);
  await lu.close();
  const res = await run(lu, read10(0, 1));
  assert.equal(res.status, 2);
  assert.equal(res.sense![2] & 0x0f, SenseKey.NOT_READY);
});

test('READ DEFECT DATA 10/12 report empty primary and grown lists in the requested format', async (t) => {
  const { lu } = await fixture(t);
  const ten = assertGood(await run(lu, cdb([0x37, 0, 0x18 | 0x05, 0, 0, 0, 0, ...u16(64), 0])));
  assert.deepEqual([...ten], [0, 0x1d, 0, 0]);
  const twelve = assertGood(await run(lu, cdb([0xb7, 0x08 | 0x04, 0, 0, 0, 0, ...u32(64), 0, 0])));
  assert.deepEqual([...twelve], [0, 0x0c, 0, 0, 0, 0, 0, 0]);
  assert.equal(assertGood(await run(lu, cdb([0xb7, 0, 0, 0, 0, 0, ...u32(2), 0, 0]))).length, 2);
});
