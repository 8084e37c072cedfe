import { test } from 'node:test';
import assert from 'node:assert/strict';

import { SenseKey, ASC } from '../../../src/iscsi/scsi/sense.js';
import type { ItNexus, ScsiResponse } from '../../../src/iscsi/scsi/types.js';
import { A, B, assertGood, assertSense, cdb, fixture, nexus, pattern, read10, run, tur, u32, write10 } from './helpers.js';
import type { FileLogicalUnit } from '../../../src/iscsi/scsi/file-lu.js';

const C = nexus('iqn.2026-01.test:c');
const CONFLICT = 0x18;
const WE = 1;
const EA = 3;
const WE_RO = 5;
const EA_AR = 8;

function prout(lu: FileLogicalUnit, who: ItNexus, sa: number, key: bigint, sark: bigint, type = 0, flags = 0): Promise<ScsiResponse> {
  const params = Buffer.alloc(24);
  params.writeBigUInt64BE(key, 0);
  params.writeBigUInt64BE(sark, 8);
  params[20] = flags;
  return run(lu, cdb([0x5f, sa, type, 0, 0, ...u32(24), 0]), { nexus: who, data: params });
}
const prin = (lu: FileLogicalUnit, who: ItNexus, sa: number, alloc = 1024) => run(lu, cdb([0x5e, sa, 0, 0, 0, 0, 0, alloc >> 8, alloc & 0xff, 0]), { nexus: who });

async function readKeys(lu: FileLogicalUnit, who: ItNexus): Promise<{ generation: number; keys: bigint[] }> {
  const d = assertGood(await prin(lu, who, 0));
  const n = d.readUInt32BE(4) / 8;
  return { generation: d.readUInt32BE(0), keys: Array.from({ length: n }, (_, i) => d.readBigUInt64BE(8 + 8 * i)) };
}
async function readReservation(lu: FileLogicalUnit, who: ItNexus): Promise<{ key: bigint; type: number } | null> {
  const d = assertGood(await prin(lu, who, 1));
  if (d.readUInt32BE(4) === 0) return null;
  return { key: d.readBigUInt64BE(8), type: d[21] & 0x0f };
}
const writeOne = (lu: FileLogicalUnit, who: ItNexus) => run(lu, write10(1, 1), { nexus: who, data: pattern(1, 1) });
const readOne = (lu: FileLogicalUnit, who: ItNexus) => run(lu, read10(1, 1), { nexus: who });

test('RESERVE(6): the holder works, others get RESERVATION CONFLICT except for INQUIRY, REPORT LUNS and RELEASE', async (t) => {
  const { lu } = await fixture(t);
  assertGood(await run(lu, cdb([0x16, 0, 0, 0, 0, 0]), { nexus: A }));
  assertGood(await run(lu, cdb([0x16, 0, 0, 0, 0, 0]), { nexus: A }));
  assert.equal((await run(lu, cdb([0x16, 0, 0, 0, 0, 0]), { nexus: B })).status, CONFLICT);
  assert.equal((await readOne(lu, B)).status, CONFLICT);
  assert.equal((await run(lu, cdb([0x1a, 0, 0x3f, 0, 255, 0]), { nexus: B })).status, CONFLICT);
  assert.equal((await run(lu, tur(), { nexus: B })).status, CONFLICT);
  assertGood(await run(lu, cdb([0x12, 0, 0, 0, 36, 0]), { nexus: B }));
  assertGood(await run(lu, cdb([0xa0, 0, 0, 0, 0, 0, ...u32(64), 0, 0]), { nexus: B }));
  assertGood(await run(lu, cdb([0x17, 0, 0, 0, 0, 0]), { nexus: B }));
  assert.equal((await writeOne(lu, B)).status, CONFLICT, 'RELEASE from a non-holder changes nothing');
  assertGood(await writeOne(lu, A));
  assertGood(await run(lu, cdb([0x17, 0, 0, 0, 0, 0]), { nexus: A }));
  assertGood(await writeOne(lu, B));
});

test('RESERVE(6) ends with the nexus and with a LUN reset', async (t) => {
  const { lu } = await fixture(t);
  assertGood(await run(lu, cdb([0x16, 0, 0, 0, 0, 0]), { nexus: A }));
  lu.nexusLost(A);
  assertGood(await readOne(lu, B));
  assertGood(await run(lu, cdb([0x16, 0, 0, 0, 0, 0]), { nexus: B }));
  lu.reset('lun-reset', A);
  assertSense(await readOne(lu, B), SenseKey.UNIT_ATTENTION, ASC.BUS_DEVICE_RESET);
  assertGood(await readOne(lu, A));
  assertGood(await run(lu, cdb([0x16, 0, 0, 0, 0, 0]), { nexus: A }));
});

test('PR REGISTER, READ KEYS and the generation counter; wrong keys conflict', async (t) => {
  const { lu } = await fixture(t);
  const start = await readKeys(lu, A);
  assert.deepEqual(start.keys, []);
  assertGood(await prout(lu, A, 0, 0n, 0xaan));
  assertGood(await prout(lu, B, 0, 0n, 0xbbn));
  const after = await readKeys(lu, C);
  assert.deepEqual(after.keys.sort(), [0xaan, 0xbbn]);
  assert.equal(after.generation, start.generation + 2);
  assert.equal((await prout(lu, A, 0, 0x99n, 0xa1n)).status, CONFLICT, 'REGISTER with the wrong current key');
  assertGood(await prout(lu, A, 6, 0x99n, 0xa1n)); // REGISTER AND IGNORE EXISTING KEY
  assertGood(await prout(lu, A, 0, 0xa1n, 0n)); // unregister
  assert.deepEqual((await readKeys(lu, A)).keys, [0xbbn]);
  assertSense(await prout(lu, A, 0, 0n, 0x1n, 0, 0x01), SenseKey.ILLEGAL_REQUEST, ASC.INVALID_FIELD_IN_PARAMETER_LIST);
  assertSense(await run(lu, cdb([0x5f, 0, 0, 0, 0, ...u32(16), 0]), { nexus: A, data: Buffer.alloc(16) }), SenseKey.ILLEGAL_REQUEST, ASC.PARAMETER_LIST_LENGTH_ERROR);
  assertSense(await prin(lu, A, 9), SenseKey.ILLEGAL_REQUEST, ASC.INVALID_FIELD_IN_CDB);
  const truncated = assertGood(await prin(lu, A, 0, 12));
  assert.equal(truncated.length, 12);
});

test('PR access rules for each reservation type', async (t) => {
  const cases: { type: number; registeredWrite: boolean; registeredRead: boolean; strangerRead: boolean }[] = [
    { type: WE, registeredWrite: false, registeredRead: true, strangerRead: true },
    { type: EA, registeredWrite: false, registeredRead: false, strangerRead: false },
    { type: WE_RO, registeredWrite: true, registeredRead: true, strangerRead: true },
    { type: EA_AR, registeredWrite: true, registeredRead: true, strangerRead: false },
  ];
  for (const c of cases) {
    const { lu } = await fixture(t);
    assertGood(await prout(lu, A, 0, 0n, 1n));
    assertGood(await prout(lu, B, 0, 0n, 2n));
    assertGood(await prout(lu, A, 1, 1n, 0n, c.type));
    assert.equal((await readReservation(lu, C))?.type, c.type);
    assertGood(await writeOne(lu, A));
    assertGood(await readOne(lu, A));
    assert.equal((await writeOne(lu, B)).status === 0, c.registeredWrite, `type ${c.type} registered write`);
    assert.equal((await readOne(lu, B)).status === 0, c.registeredRead, `type ${c.type} registered read`);
    assert.equal((await writeOne(lu, C)).status, CONFLICT, `type ${c.type} stranger write`);
    assert.equal((await readOne(lu, C)).status === 0, c.strangerRead, `type ${c.type} stranger read`);
    assertGood(await run(lu, cdb([0x12, 0, 0, 0, 36, 0]), { nexus: C }));
    assertGood(await run(lu, cdb([0x25, 0, 0, 0, 0, 0, 0, 0, 0, 0]), { nexus: C }));
    assertGood(await run(lu, tur(), { nexus: C }));
  }
});

test('PR RESERVE and RELEASE: holder only, same type, and registrants-only release tells the others', async (t) => {
  const { lu } = await fixture(t);
  assert.equal((await prout(lu, A, 1, 0n, 0n, WE)).status, CONFLICT, 'unregistered nexus may not reserve');
  assertGood(await prout(lu, A, 0, 0n, 1n));
  assertGood(await prout(lu, B, 0, 0n, 2n));
  assertGood(await prout(lu, A, 1, 1n, 0n, WE_RO));
  assertGood(await prout(lu, A, 1, 1n, 0n, WE_RO));
  assert.equal((await prout(lu, A, 1, 1n, 0n, EA)).status, CONFLICT);
  assert.equal((await prout(lu, B, 1, 2n, 0n, WE_RO)).status, CONFLICT);
  assertGood(await prout(lu, B, 2, 2n, 0n, WE_RO)); // a non-holder's RELEASE is a no-op
  assert.equal((await readReservation(lu, A))?.key, 1n);
  assertSense(await prout(lu, A, 2, 1n, 0n, WE), SenseKey.ILLEGAL_REQUEST, [0x26, 0x04]);
  assertGood(await prout(lu, A, 2, 1n, 0n, WE_RO));
  assert.equal(await readReservation(lu, A), null);
  assertSense(await run(lu, tur(), { nexus: B }), SenseKey.UNIT_ATTENTION, ASC.RESERVATIONS_RELEASED);
  assertGood(await run(lu, tur(), { nexus: A }));
});

test('PR CLEAR removes everything and raises RESERVATIONS PREEMPTED for the others', async (t) => {
  const { lu } = await fixture(t);
  assertGood(await prout(lu, A, 0, 0n, 1n));
  assertGood(await prout(lu, B, 0, 0n, 2n));
  assertGood(await prout(lu, A, 1, 1n, 0n, EA));
  assert.equal((await prout(lu, C, 3, 0n, 0n)).status, CONFLICT);
  assertGood(await prout(lu, A, 3, 1n, 0n));
  assert.deepEqual((await readKeys(lu, A)).keys, []);
  assert.equal(await readReservation(lu, A), null);
  assertSense(await readOne(lu, B), SenseKey.UNIT_ATTENTION, ASC.RESERVATIONS_PREEMPTED);
  assertGood(await readOne(lu, B));
});

test('PR PREEMPT takes over the reservation and removes the preempted registration', async (t) => {
  const { lu } = await fixture(t);
  assertGood(await prout(lu, A, 0, 0n, 1n));
  assertGood(await prout(lu, B, 0, 0n, 2n));
  assertGood(await prout(lu, C, 0, 0n, 3n));
  assertGood(await prout(lu, A, 1, 1n, 0n, WE));
  assertGood(await prout(lu, B, 4, 2n, 1n, EA)); // B preempts A
  assert.deepEqual((await readKeys(lu, B)).keys.sort(), [2n, 3n]);
  assert.deepEqual(await readReservation(lu, B), { key: 2n, type: EA });
  assertSense(await readOne(lu, A), SenseKey.UNIT_ATTENTION, ASC.REGISTRATIONS_PREEMPTED);
  assert.equal((await readOne(lu, A)).status, CONFLICT);
  assertSense(await readOne(lu, C), SenseKey.UNIT_ATTENTION, ASC.RESERVATIONS_RELEASED);
  // PREEMPT AND ABORT of a key that is not the holder's removes the registration only.
  assertGood(await prout(lu, B, 5, 2n, 3n, EA));
  assert.deepEqual((await readKeys(lu, B)).keys, [2n]);
  assert.equal((await prout(lu, B, 4, 2n, 0x77n, EA)).status, CONFLICT, 'nothing to preempt');
  assertSense(await prout(lu, B, 4, 2n, 0n, EA), SenseKey.ILLEGAL_REQUEST, ASC.INVALID_FIELD_IN_PARAMETER_LIST);
});

test('PR REPORT CAPABILITIES and READ FULL STATUS describe registrants with transport ids', async (t) => {
  const { lu } = await fixture(t);
  const caps = assertGood(await prin(lu, A, 2));
  assert.equal(caps.readUInt16BE(0), 8);
  assert.ok(caps[3] & 0x80);
  assertGood(await prout(lu, A, 0, 0n, 0x11n));
  assertGood(await prout(lu, A, 1, 0x11n, 0n, WE));
  const full = assertGood(await prin(lu, B, 3));
  assert.equal(full.readUInt32BE(4), full.length - 8);
  assert.equal(full.readBigUInt64BE(8), 0x11n);
  assert.equal(full[8 + 12] & 1, 1, 'R_HOLDER');
  assert.equal(full[8 + 13], WE);
  const tidLength = full.readUInt32BE(8 + 20);
  const tid = full.subarray(8 + 24, 8 + 24 + tidLength);
  assert.equal(tid[0], 0x45);
  assert.equal(tid.subarray(4).toString('utf8').replace(/\0+$/, ''), A.initiatorPortName);
});

test('persistent and RESERVE(6) reservations exclude each other', async (t) => {
  const { lu } = await fixture(t);
  assertGood(await run(lu, cdb([0x16, 0, 0, 0, 0, 0]), { nexus: A }));
  assert.equal((await prin(lu, B, 0)).status, CONFLICT);
  assert.equal((await prout(lu, B, 0, 0n, 1n)).status, CONFLICT);
  assertGood(await run(lu, cdb([0x17, 0, 0, 0, 0, 0]), { nexus: A }));
  assertGood(await prout(lu, B, 0, 0n, 1n));
  assertGood(await prout(lu, B, 1, 1n, 0n, WE));
  assert.equal((await run(lu, cdb([0x16, 0, 0, 0, 0, 0]), { nexus: A })).status, CONFLICT);
  assertGood(await run(lu, cdb([0x16, 0, 0, 0, 0, 0]), { nexus: B }));
});

test('registrations survive the loss of the nexus', async (t) => {
  const { lu } = await fixture(t);
  assertGood(await prout(lu, A, 0, 0n, 5n));
  assertGood(await prout(lu, A, 1, 5n, 0n, EA));
  lu.nexusLost(A);
  assert.equal((await readOne(lu, B)).status, CONFLICT);
  assertGood(await readOne(lu, A));
});
