import { test } from 'node:test';
import assert from 'node:assert/strict';

import { Op } from '../../../src/iscsi/scsi/opcodes.js';
import type { ScsiResponse } from '../../../src/iscsi/scsi/types.js';
import { xorshift32 } from '../../helpers/prng.js';
import { A, B, assertGood, command, fixture, pattern, read10, run, write10 } from './helpers.js';

const KNOWN = Object.values(Op);
const STATUSES = new Set([0x00, 0x02, 0x18]);

function check(res: ScsiResponse, what: string): void {
  assert.ok(STATUSES.has(res.status), `${what}: status ${res.status}`);
  if (res.status === 0x02) {
    assert.ok(res.sense && res.sense.length >= 18 && (res.sense[0] & 0x7f) === 0x70, `${what}: fixed sense`);
  }
}

test('twenty thousand random and mutated CDBs get well-formed answers, never a throw or a hang', async (t) => {
  const { lu } = await fixture(t, 4096);
  const next = xorshift32(0x5eed1234);
  const known = pattern(8, 42);
  assertGood(await run(lu, write10(100, 8), { data: known }));
  const deadline = Date.now() + 5000;
  let count = 0;
  while (count < 20000 && Date.now() < deadline) {
    const length = [6, 10, 12, 16, 1 + (next() % 16)][next() % 5];
    const cdb = Buffer.alloc(length);
    for (let i = 0; i < length; i++) cdb[i] = next() & 0xff;
    // Most CDBs carry a real opcode so the handlers, not just the lookup, see the garbage.
    if (next() % 4 !== 0) cdb[0] = KNOWN[next() % KNOWN.length];
    // Keep block addresses small often enough to get past the range checks.
    if (next() % 2 === 0 && length >= 10) cdb.fill(0, 2, 6);
    const withData = next() % 2 === 0;
    const data = withData ? Buffer.alloc(next() % 4096, next() & 0xff) : undefined;
    const res = await lu.execute(
      command(cdb, { nexus: next() % 2 ? A : B, data, expectedLength: data ? data.length : next() % 8192, readOnly: next() % 8 === 0 }),
    );
    check(res, `cdb ${cdb.toString('hex')}`);
    count++;
  }
  assert.ok(count >= 500, `only ${count} commands in the time allowed`);
  // Garbage may have left registrations behind, but a RESERVE(6) holder is gone with its
  // nexus, so the unit still answers a fresh initiator.
  lu.nexusLost(A);
  lu.nexusLost(B);
  check(await run(lu, read10(0, 1), { nexus: { ...A, id: 'after-fuzz' } }), 'read after the storm');
});
