import { test } from 'node:test';
import assert from 'node:assert/strict';

import { executeForTarget } from '../../../src/iscsi/scsi/dispatch.js';
import { SenseKey, ASC } from '../../../src/iscsi/scsi/sense.js';
import type { LogicalUnit } from '../../../src/iscsi/scsi/types.js';
import { A, DEVICE_ID, assertGood, assertSense, cdb, command, fixture, pattern, read10, run, tur, u16, u32, write10 } from './helpers.js';

const inquiry = (evpd: number, page: number, alloc = 255) => cdb([0x12, evpd, page, ...u16(alloc), 0]);

test('TEST UNIT READY is GOOD', async (t) => {
  const { lu } = await fixture(t);
  assertGood(await run(lu, tur()));
});

test('standard INQUIRY describes a SPC-4 disk with command queueing, truncated to the allocation length', async (t) => {
  const { lu } = await fixture(t);
  const d = assertGood(await run(lu, inquiry(0, 0)));
  assert.equal(d[0], 0x00);
  assert.equal(d[2], 0x06);
  assert.equal(d[3] & 0x0f, 2);
  assert.equal(d[4], d.length - 5);
  assert.ok(d[7] & 0x02);
  assert.equal(d.subarray(8, 16).toString('latin1').trim().length > 0, true);
  assert.equal(assertGood(await run(lu, inquiry(0, 0, 5))).length, 5);
  assertSense(await run(lu, inquiry(0, 0x80)), SenseKey.ILLEGAL_REQUEST, ASC.INVALID_FIELD_IN_CDB);
  assertSense(await run(lu, inquiry(1, 0x99)), SenseKey.ILLEGAL_REQUEST, ASC.INVALID_FIELD_IN_CDB);
});

test('VPD pages: list, serial, identification, block limits, characteristics and provisioning', async (t) => {
  const { lu } = await fixture(t);
  const list = assertGood(await run(lu, inquiry(1, 0x00)));
  const pages = [...list.subarray(4, 4 + list.readUInt16BE(2))];
  assert.deepEqual(pages, [0x00, 0x80, 0x83, 0xb0, 0xb1, 0xb2]);
  for (const p of pages) {
    const d = assertGood(await run(lu, inquiry(1, p)));
    assert.equal(d[1], p);
    assert.equal(d.readUInt16BE(2), d.length - 4);
  }
  const serial = assertGood(await run(lu, inquiry(1, 0x80)));
  assert.equal(serial.subarray(4).toString('latin1'), 'SERIAL0001');

  const ids = assertGood(await run(lu, inquiry(1, 0x83, 1024)));
  const designators: { codeSet: number; assoc: number; type: number; value: Buffer }[] = [];
  for (let o = 4; o < ids.length; ) {
    const len = ids[o + 3];
    designators.push({ codeSet: ids[o] & 0x0f, assoc: (ids[o + 1] >> 4) & 3, type: ids[o + 1] & 0x0f, value: ids.subarray(o + 4, o + 4 + len) });
    o += 4 + len;
  }
  const naa = designators.find((d) => d.type === 3 && d.assoc === 0);
  assert.ok(naa);
  assert.equal(naa.value.length, 16);
  assert.equal(naa.value[0] >> 4, 6);
  assert.equal(naa.value.toString('hex').slice(1), DEVICE_ID.slice(1));
  const t10 = designators.find((d) => d.type === 1 && d.assoc === 0);
  assert.ok(t10?.value.toString('latin1').endsWith(DEVICE_ID));
  assert.ok(designators.find((d) => d.type === 4 && d.assoc === 1));

  const limits = assertGood(await run(lu, inquiry(1, 0xb0)));
  assert.equal(limits.length, 64);
  assert.ok(limits.readUInt32BE(20) > 0, 'max unmap LBA count is set on a thin unit');
  const lbp = assertGood(await run(lu, inquiry(1, 0xb2)));
  assert.equal(lbp[5] & 0xe4, 0xe4, 'LBPU, LBPWS, LBPWS10 and LBPRZ');
  assert.equal(lbp[6] & 0x07, 2);
  const bdc = assertGood(await run(lu, inquiry(1, 0xb1)));
  assert.equal(bdc.readUInt16BE(4), 1);
});

test('a thick unit advertises no provisioning page, no unmap limits and no UNMAP', async (t) => {
  const { lu } = await fixture(t, 64, { thinProvisioning: false });
  const list = assertGood(await run(lu, inquiry(1, 0x00)));
  assert.ok(!list.subarray(4).includes(0xb2));
  assertSense(await run(lu, inquiry(1, 0xb2)), SenseKey.ILLEGAL_REQUEST, ASC.INVALID_FIELD_IN_CDB);
  const limits = assertGood(await run(lu, inquiry(1, 0xb0)));
  assert.equal(limits.readUInt32BE(20), 0);
  const cap16 = assertGood(await run(lu, cdb([0x9e, 0x10, 0, 0, 0, 0, 0, 0, 0, 0, ...u32(32), 0, 0])));
  assert.equal(cap16[14] & 0xc0, 0);
  assertSense(await run(lu, cdb([0x42, 0, 0, 0, 0, 0, 0, 0, 24, 0])), SenseKey.ILLEGAL_REQUEST, ASC.INVALID_COMMAND_OPERATION_CODE);
});

test('READ CAPACITY 10 and 16 report the last LBA, block size and thin provisioning', async (t) => {
  const { lu } = await fixture(t, 2048);
  const c10 = assertGood(await run(lu, cdb([0x25, 0, 0, 0, 0, 0, 0, 0, 0, 0])));
  assert.equal(c10.readUInt32BE(0), 2047);
  assert.equal(c10.readUInt32BE(4), 512);
  const c16 = assertGood(await run(lu, cdb([0x9e, 0x10, 0, 0, 0, 0, 0, 0, 0, 0, ...u32(32), 0, 0])));
  assert.equal(c16.length, 32);
  assert.equal(c16.readBigUInt64BE(0), 2047n);
  assert.equal(c16.readUInt32BE(8), 512);
  assert.equal(c16[13] & 0x0f, 3, '4 KiB physical blocks');
  assert.equal(c16[14] & 0xc0, 0xc0, 'LBPME and LBPRZ');
  assert.equal(assertGood(await run(lu, cdb([0x9e, 0x10, 0, 0, 0, 0, 0, 0, 0, 0, ...u32(12), 0, 0]))).length, 12);
  assertSense(await run(lu, cdb([0x9e, 0x1f, 0, 0, 0, 0, 0, 0, 0, 0, ...u32(32), 0, 0])), SenseKey.ILLEGAL_REQUEST, ASC.INVALID_FIELD_IN_CDB);
});

function modePages(data: Buffer, headerLength: number, descriptorLength: number): Map<number, Buffer> {
  const pages = new Map<number, Buffer>();
  for (let o = headerLength + descriptorLength; o < data.length; ) {
    const len = data[o + 1];
    pages.set(data[o] & 0x3f, data.subarray(o, o + 2 + len));
    o += 2 + len;
  }
  return pages;
}

test('MODE SENSE(6) all pages: caching with WCE, control, informational exceptions, block descriptor', async (t) => {
  const { lu } = await fixture(t, 2048);
  const d = assertGood(await run(lu, cdb([0x1a, 0, 0x3f, 0, 255, 0])));
  assert.equal(d[0], d.length - 1);
  assert.equal(d[2] & 0x80, 0, 'not write protected');
  assert.equal(d[3], 8);
  assert.equal(d.readUInt32BE(4), 2048);
  assert.equal(d.readUIntBE(9, 3), 512);
  const pages = modePages(d, 4, 8);
  assert.deepEqual([...pages.keys()], [0x08, 0x0a, 0x1c]);
  assert.ok(pages.get(0x08)![2] & 0x04, 'WCE');
  const dbd = assertGood(await run(lu, cdb([0x1a, 0x08, 0x08, 0, 255, 0])));
  assert.equal(dbd[3], 0);
  assert.equal(dbd[4], 0x08);
  assert.equal(assertGood(await run(lu, cdb([0x1a, 0, 0x3f, 0, 4, 0]))).length, 4);
});

test('MODE SENSE shows WP for a read-only nexus, and page controls behave', async (t) => {
  const { lu } = await fixture(t);
  const ro = assertGood(await run(lu, cdb([0x1a, 0, 0x3f, 0, 255, 0]), { readOnly: true }));
  assert.ok(ro[2] & 0x80);
  const ten = assertGood(await run(lu, cdb([0x5a, 0x10, 0x0a, 0, 0, 0, 0, ...u16(255), 0]), { readOnly: true }));
  assert.ok(ten[3] & 0x80);
  assert.equal(ten[4] & 1, 1, 'long LBA descriptor');
  assert.equal(ten.readUInt16BE(6), 16);
  assert.equal(ten.readUInt16BE(0), ten.length - 2);
  const changeable = assertGood(await run(lu, cdb([0x1a, 0x08, 0x48, 0, 255, 0])));
  assert.equal(changeable[4 + 2], 0x04, 'only WCE is changeable in the caching page');
  const defaults = assertGood(await run(lu, cdb([0x1a, 0x08, 0x88, 0, 255, 0])));
  assert.equal(defaults[4 + 2] & 0x04, 0x04);
  assertSense(await run(lu, cdb([0x1a, 0x08, 0xc8, 0, 255, 0])), SenseKey.ILLEGAL_REQUEST, ASC.SAVING_PARAMETERS_NOT_SUPPORTED);
  assertSense(await run(lu, cdb([0x1a, 0x08, 0x01, 0, 255, 0])), SenseKey.ILLEGAL_REQUEST, ASC.INVALID_FIELD_IN_CDB);
  assertSense(await run(lu, cdb([0x1a, 0x08, 0x08, 0x01, 255, 0])), SenseKey.ILLEGAL_REQUEST, ASC.INVALID_FIELD_IN_CDB);
});

test('a read-only nexus gets DATA PROTECT for every command that changes the medium, and may still read', async (t) => {
  const { lu } = await fixture(t);
  const one = pattern(1, 1);
  const writes: [Buffer, Buffer | undefined][] = [
    [write10(0, 1), one],
    [cdb([0x8a, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 0, 0]), one],
    [cdb([0x41, 0, 0, 0, 0, 0, 0, 0, 1, 0]), one],
    [cdb([0x42, 0, 0, 0, 0, 0, 0, 0, 24, 0]), Buffer.alloc(24)],
    [cdb([0x89, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 0, 0]), Buffer.alloc(1024)],
    [cdb([0x2e, 0, 0, 0, 0, 0, 0, 0, 1, 0]), one],
    [cdb([0x55, 0x10, 0, 0, 0, 0, 0, 0, 8, 0]), Buffer.alloc(8)],
  ];
  for (const [c, data] of writes) {
    assertSense(await run(lu, c, { data, readOnly: true }), SenseKey.DATA_PROTECT, ASC.WRITE_PROTECTED);
  }
  assertGood(await run(lu, read10(0, 1), { readOnly: true }));
  assertGood(await run(lu, cdb([0x35, 0, 0, 0, 0, 0, 0, 0, 0, 0]), { readOnly: true }));
});

test('a read-only logical unit protects every nexus', async (t) => {
  const { path } = await fixture(t);
  const { openFileLogicalUnit } = await import('../../../src/iscsi/scsi/file-lu.js');
  const lu = await openFileLogicalUnit({ path, readOnly: true, serial: 'S', deviceId: DEVICE_ID });
  t.after(() => lu.close());
  assertSense(await run(lu, write10(0, 1), { data: pattern(1, 1) }), SenseKey.DATA_PROTECT, ASC.WRITE_PROTECTED);
  assert.ok(assertGood(await run(lu, cdb([0x1a, 0, 0x3f, 0, 255, 0])))[2] & 0x80);
});

test('unknown opcodes and service actions are rejected without touching the unit', async (t) => {
  const { lu } = await fixture(t);
  for (const op of [0x01, 0x04, 0x07, 0x3b, 0x3c, 0x83, 0x84, 0xa4, 0xe0, 0xff]) {
    assertSense(await run(lu, cdb([op, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0])), SenseKey.ILLEGAL_REQUEST, ASC.INVALID_COMMAND_OPERATION_CODE);
  }
  assertSense(await run(lu, cdb([0x9e, 0x05, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 32, 0, 0])), SenseKey.ILLEGAL_REQUEST, ASC.INVALID_FIELD_IN_CDB);
  assertSense(await run(lu, cdb([0xa3, 0x05, 0, 0, 0, 0, 0, 0, 0, 32, 0, 0])), SenseKey.ILLEGAL_REQUEST, ASC.INVALID_FIELD_IN_CDB);
  // A CDB shorter than its opcode's length is malformed, not a crash.
  assertSense(await run(lu, cdb([0x88, 0, 0, 0, 0, 0])), SenseKey.ILLEGAL_REQUEST, ASC.INVALID_COMMAND_OPERATION_CODE);
  assertSense(await run(lu, Buffer.alloc(0)), SenseKey.ILLEGAL_REQUEST, ASC.INVALID_COMMAND_OPERATION_CODE);
});

test('REQUEST SENSE reports NO SENSE, or a pending unit attention which it clears', async (t) => {
  const { lu } = await fixture(t);
  assertGood(await run(lu, tur()));
  const none = assertGood(await run(lu, cdb([0x03, 0, 0, 0, 252, 0])));
  assert.equal(none[0], 0x70);
  assert.equal(none[2] & 0x0f, SenseKey.NO_SENSE);
  lu.reset('lun-reset', A);
  const ua = assertGood(await run(lu, cdb([0x03, 0, 0, 0, 252, 0])));
  assert.deepEqual([ua[2] & 0x0f, ua[12], ua[13]], [SenseKey.UNIT_ATTENTION, ...ASC.BUS_DEVICE_RESET]);
  assertGood(await run(lu, tur()));
  const desc = assertGood(await run(lu, cdb([0x03, 1, 0, 0, 252, 0])));
  assert.equal(desc[0], 0x72);
});

test('dispatch: REPORT LUNS lists the map, INQUIRY to a missing LUN says so, other commands get LUN NOT SUPPORTED', async (t) => {
  const { lu } = await fixture(t);
  const luns = new Map<number, LogicalUnit>([
    [1, lu],
    [300, lu],
  ]);
  const report = await executeForTarget(luns, command(cdb([0xa0, 0, 0, 0, 0, 0, ...u32(1024), 0, 0]), { lun: 7 }));
  const d = assertGood(report);
  assert.equal(d.readUInt32BE(0), 16);
  assert.deepEqual([...d.subarray(8, 16)], [0, 1, 0, 0, 0, 0, 0, 0]);
  assert.deepEqual([...d.subarray(16, 24)], [0x41, 0x2c, 0, 0, 0, 0, 0, 0]);
  assertSense(await executeForTarget(luns, command(cdb([0xa0, 0, 0, 0, 0, 0, ...u32(8), 0, 0]))), SenseKey.ILLEGAL_REQUEST, ASC.INVALID_FIELD_IN_CDB);
  assertSense(await executeForTarget(luns, command(cdb([0xa0, 0, 9, 0, 0, 0, ...u32(64), 0, 0]))), SenseKey.ILLEGAL_REQUEST, ASC.INVALID_FIELD_IN_CDB);
  const missing = assertGood(await executeForTarget(luns, command(inquiry(0, 0), { lun: 2 })));
  assert.equal(missing[0], 0x7f);
  assertSense(await executeForTarget(luns, command(tur(), { lun: 2 })), SenseKey.ILLEGAL_REQUEST, ASC.LOGICAL_UNIT_NOT_SUPPORTED);
  assertSense(await executeForTarget(luns, command(read10(0, 1), { lun: 0 })), SenseKey.ILLEGAL_REQUEST, ASC.LOGICAL_UNIT_NOT_SUPPORTED);
  assertGood(await executeForTarget(luns, command(read10(0, 1), { lun: 1 })));
  assertGood(await executeForTarget(luns, command(write10(0, 1), { lun: 300, data: pattern(1, 2) })));
});
