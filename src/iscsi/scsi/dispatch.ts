// Routes a command to the logical unit its LUN names. REPORT LUNS speaks for the whole
// target, and a LUN with nothing behind it still answers INQUIRY (SPC-4 6.6.2: peripheral
// qualifier 011b) so initiators can scan past holes in the LUN space.

import { noLunInquiry } from './inquiry.js';
import { Op } from './opcodes.js';
import { reportLuns } from './report-luns.js';
import { good, invalidField, logicalUnitNotSupported } from './sense.js';
import type { LogicalUnit, ScsiCommand, ScsiResponse } from './types.js';

export function executeForTarget(
  luns: ReadonlyMap<number, LogicalUnit>,
  cmd: ScsiCommand,
): ScsiResponse | Promise<ScsiResponse> {
  const cdb = cmd.cdb;
  if (cdb.length >= 12 && cdb[0] === Op.REPORT_LUNS) return reportLuns(luns.keys(), cdb);
  const lu = luns.get(cmd.lun);
  if (lu) return lu.execute(cmd);
  if (cdb.length >= 6 && cdb[0] === Op.INQUIRY) {
    if (cdb[1] & 0x03 || cdb[2] !== 0) return logicalUnitNotSupported();
    const data = noLunInquiry();
    const alloc = cdb.readUInt16BE(3);
    return good(data.length > alloc ? data.subarray(0, alloc) : data);
  }
  if (cdb.length === 0) return invalidField(0);
  return logicalUnitNotSupported();
}
