// REPORT LUNS (SPC-4 6.33) and the SAM-5 LUN encoding the transport also needs.

import { good, invalidField } from './sense.js';
import type { ScsiResponse } from './types.js';

/** Eight-byte LUN: peripheral addressing below 256, flat space addressing up to 16383. */
export function encodeLun(lun: number): Buffer {
  const b = Buffer.alloc(8);
  if (lun < 256) b[1] = lun;
  else b.writeUInt16BE(0x4000 | (lun & 0x3fff), 0);
  return b;
}

export function reportLuns(luns: Iterable<number>, cdb: Buffer): ScsiResponse {
  const select = cdb[2];
  const alloc = cdb.readUInt32BE(6);
  // 0: logical units, 1: well-known units (there are none), 2: both.
  if (select > 2) return invalidField(2);
  if (alloc < 16) return invalidField(6);
  const list = select === 1 ? [] : [...luns].sort((a, b) => a - b);
  const data = Buffer.alloc(8 + 8 * list.length);
  data.writeUInt32BE(8 * list.length, 0);
  list.forEach((lun, i) => encodeLun(lun).copy(data, 8 + 8 * i));
  return good(data.length > alloc ? data.subarray(0, alloc) : data);
}
