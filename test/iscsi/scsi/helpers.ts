// Builds logical units over temporary sparse files and hand-made CDBs for the SCSI tests.

import { writeFile, truncate } from 'node:fs/promises';
import { join } from 'node:path';
import type { TestContext } from 'node:test';
import assert from 'node:assert/strict';

import { tempDir } from '../../helpers/env.js';
import { DataOut } from '../../../src/iscsi/scsi/data-out.js';
import { openFileLogicalUnit, type FileLogicalUnit, type FileLogicalUnitOptions } from '../../../src/iscsi/scsi/file-lu.js';
import { parseSense } from '../../../src/iscsi/scsi/sense.js';
import { DataDirection, type ItNexus, type ScsiCommand, type ScsiResponse } from '../../../src/iscsi/scsi/types.js';

export const DEVICE_ID = '0123456789abcdef0123456789abcdef';

export function nexus(name: string, isid = '23d000000001'): ItNexus {
  return { id: `${name}|${isid}|1`, initiatorName: name, initiatorPortName: `${name},i,0x${isid}` };
}

export const A = nexus('iqn.2026-01.test:a');
export const B = nexus('iqn.2026-01.test:b');

export interface Fixture {
  lu: FileLogicalUnit;
  path: string;
  dir: string;
}

/** A logical unit over a fresh sparse file of `blocks` blocks, closed when the test ends. */
export async function fixture(
  t: TestContext,
  blocks = 2048,
  opts: Partial<FileLogicalUnitOptions> = {},
): Promise<Fixture> {
  const dir = await tempDir(t, 'cinderblock-scsi-');
  const path = join(dir, 'volume.img');
  await writeFile(path, '');
  await truncate(path, blocks * (opts.blockSize ?? 512));
  const lu = await openFileLogicalUnit({ path, serial: 'SERIAL0001', deviceId: DEVICE_ID, ...opts });
  t.after(() => lu.close());
  return { lu, path, dir };
}

export function cdb(bytes: number[], length = bytes.length): Buffer {
  const b = Buffer.alloc(length);
  Buffer.from(bytes).copy(b);
  return b;
}

export interface Send {
  nexus?: ItNexus;
  data?: Buffer;
  readOnly?: boolean;
  expectedLength?: number;
  lun?: number;
}

export function command(c: Buffer, opts: Send = {}): ScsiCommand {
  const cmd: ScsiCommand = {
    cdb: c,
    lun: opts.lun ?? 0,
    nexus: opts.nexus ?? A,
    expectedLength: opts.expectedLength ?? opts.data?.length ?? 0,
    direction: opts.data ? DataDirection.Write : DataDirection.Read,
    readOnly: opts.readOnly ?? false,
  };
  if (opts.data) cmd.dataOut = DataOut.of(opts.data);
  return cmd;
}

export async function run(lu: FileLogicalUnit, c: Buffer, opts: Send = {}): Promise<ScsiResponse> {
  return lu.execute(command(c, opts));
}

export function assertGood(res: ScsiResponse): Buffer {
  assert.equal(res.status, 0, res.sense ? `sense ${JSON.stringify(parseSense(res.sense))}` : `status ${res.status}`);
  return res.data ?? Buffer.alloc(0);
}

export function assertSense(res: ScsiResponse, key: number, asc: readonly [number, number]): ReturnType<typeof parseSense> {
  assert.equal(res.status, 0x02, `expected CHECK CONDITION, got status ${res.status}`);
  assert.ok(res.sense && res.sense.length >= 18);
  const s = parseSense(res.sense);
  assert.deepEqual([s.key, s.asc, s.ascq], [key, asc[0], asc[1]]);
  return s;
}

export const u32 = (n: number): number[] => [(n >>> 24) & 0xff, (n >>> 16) & 0xff, (n >>> 8) & 0xff, n & 0xff];
export const u16 = (n: number): number[] => [(n >>> 8) & 0xff, n & 0xff];
export const u64 = (n: number): number[] => [...u32(Math.floor(n / 2 ** 32)), ...u32(n >>> 0)];

export const read10 = (lba: number, blocks: number, flags = 0) => cdb([0x28, flags, ...u32(lba), 0, ...u16(blocks), 0]);
export const write10 = (lba: number, blocks: number, flags = 0) => cdb([0x2a, flags, ...u32(lba), 0, ...u16(blocks), 0]);
export const read16 = (lba: number, blocks: number, flags = 0) => cdb([0x88, flags, ...u64(lba), ...u32(blocks), 0, 0]);
export const write16 = (lba: number, blocks: number, flags = 0) => cdb([0x8a, flags, ...u64(lba), ...u32(blocks), 0, 0]);
export const read12 = (lba: number, blocks: number, flags = 0) => cdb([0xa8, flags, ...u32(lba), ...u32(blocks), 0, 0]);
export const write12 = (lba: number, blocks: number, flags = 0) => cdb([0xaa, flags, ...u32(lba), ...u32(blocks), 0, 0]);
export const read6 = (lba: number, blocks: number) => cdb([0x08, (lba >> 16) & 0x1f, (lba >> 8) & 0xff, lba & 0xff, blocks & 0xff, 0]);
export const write6 = (lba: number, blocks: number) => cdb([0x0a, (lba >> 16) & 0x1f, (lba >> 8) & 0xff, lba & 0xff, blocks & 0xff, 0]);
export const tur = () => cdb([0, 0, 0, 0, 0, 0]);

export function pattern(blocks: number, seed: number, blockSize = 512): Buffer {
  const b = Buffer.alloc(blocks * blockSize);
  for (let i = 0; i < b.length; i++) b[i] = (i * 31 + seed * 7 + (i >> 9)) & 0xff;
  return b;
}
