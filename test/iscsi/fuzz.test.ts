import { test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { connect } from 'node:net';
import { Opcode } from '../../src/iscsi/pdu/constants.js';
import { encodePdu, newBhs } from '../../src/iscsi/pdu/pdu.js';
import { encodeText } from '../../src/iscsi/pdu/text.js';
import { IQN, LIBISCSI_INITIATOR, startTarget } from './interop-fixture.js';
import { RawInitiator, read10, write10, TEST_UNIT_READY } from './raw-initiator.js';
import { xorshift32 } from '../helpers/prng.js';

const DURATION_MS = Number(process.env.ISCSI_FUZZ_MS ?? 3000);
const WORKERS = 4;

/** Numbers in [0, 1); the seed is printed on failure so a run can be replayed with ISCSI_FUZZ_SEED. */
function rng(seed: number): () => number {
  const next = xorshift32(seed);
  return () => next() / 0x100000000;
}

function template(rand: () => number, itt: number, cmdSN: number): Buffer {
  const pick = Math.floor(rand() * 8);
  const op = [Opcode.ScsiCommand, Opcode.ScsiCommand, Opcode.DataOut, Opcode.NopOut, Opcode.TaskMgmtRequest, Opcode.TextRequest, Opcode.LogoutRequest, Opcode.Snack][pick]!;
  const bhs = newBhs(op, rand() < 0.3);
  bhs[1] = 0x80;
  bhs.writeUInt32BE(itt, 16);
  bhs.writeUInt32BE(cmdSN, 24);
  let data: Buffer = Buffer.alloc(0);
  if (op === Opcode.ScsiCommand) {
    const write = rand() < 0.5;
    const blocks = 1 + Math.floor(rand() * 64);
    (write ? write10 : read10)(Math.floor(rand() * 140000), blocks).copy(bhs, 32);
    bhs[1] = 0x80 | (write ? 0x20 : 0x40);
    bhs.writeUInt32BE(blocks * 512, 20);
    if (write) data = randomBytes(Math.min(blocks * 512, Math.floor(rand() * 9000)));
  } else if (op === Opcode.DataOut) {
    bhs.writeUInt32BE(Math.floor(rand() * 4), 20);
    data = randomBytes(Math.floor(rand() * 4096));
  } else if (op === Opcode.TextRequest) {
    data = encodeText([['SendTargets', rand() < 0.5 ? 'All' : '']]);
    bhs.writeUInt32BE(0xffffffff, 20);
  } else if (op === Opcode.TaskMgmtRequest) {
    bhs[1] = 0x80 | Math.floor(rand() * 10);
  }
  return Buffer.concat(encodePdu({ bhs, ahs: Buffer.alloc(0), data }));
}

function mutate(rand: () => number, pdu: Buffer): Buffer {
  const out = Buffer.from(pdu);
  const flips = Math.floor(rand() * 4);
  for (let i = 0; i < flips; i++) {
    // Mostly the header, where the lengths and tags live.
    const at = rand() < 0.8 ? Math.floor(rand() * 48) : Math.floor(rand() * out.length);
    out[at] = Math.floor(rand() * 256);
  }
  return rand() < 0.1 ? out.subarray(0, Math.floor(rand() * out.length)) : out;
}

async function rawGarbage(port: number, bytes: Buffer): Promise<void> {
  await new Promise<void>((resolve) => {
    const s = connect(port, '127.0.0.1', () => {
      s.write(bytes);
      setTimeout(() => s.destroy(), 20);
    });
    s.on('error', () => resolve());
    s.on('close', () => resolve());
  });
}

async function worker(port: number, rand: () => number, until: number, isid: string): Promise<number> {
  let rounds = 0;
  while (Date.now() < until) {
    rounds++;
    const mode = rand();
    if (mode < 0.25) {
      await rawGarbage(port, randomBytes(1 + Math.floor(rand() * 3000)));
      continue;
    }
    const c = await RawInitiator.connect(port);
    try {
      if (mode < 0.45) {
        // A mutated login.
        const bhs = newBhs(Opcode.LoginRequest, true);
        bhs[1] = 0x87;
        const keys = encodeText([
          ['InitiatorName', LIBISCSI_INITIATOR],
          ['TargetName', IQN],
          ['AuthMethod', 'None'],
        ]);
        c.writeRaw(mutate(rand, Buffer.concat(encodePdu({ bhs, ahs: Buffer.alloc(0), data: keys }))));
        await c.next(50);
        continue;
      }
      const { status } = await c.login({ initiatorName: LIBISCSI_INITIATOR, targetName: IQN, isid });
      if (status !== 0) continue;
      const count = 1 + Math.floor(rand() * 30);
      for (let i = 0; i < count && !c.closed; i++) {
        const pdu = template(rand, c.nextItt(), (c.cmdSN + Math.floor(rand() * 3)) >>> 0);
        c.writeRaw(rand() < 0.7 ? mutate(rand, pdu) : pdu);
        if (rand() < 0.3) await c.next(5);
      }
      await c.next(30);
    } finally {
      c.close();
    }
  }
  return rounds;
}

test(`fuzzing with random and mutated PDUs for ${DURATION_MS} ms leaves the target serving`, async (t) => {
  const seed = Number(process.env.ISCSI_FUZZ_SEED ?? Math.floor(Math.random() * 0xffffffff));
  // Mutated logins fail authorization by the hundred; throttling them is tested elsewhere.
  const fx = await startTarget(t, { server: { loginThrottle: { maxFailures: Number.MAX_SAFE_INTEGER, windowMs: 1 } } });
  const until = Date.now() + DURATION_MS;
  const rounds = await Promise.all(Array.from({ length: WORKERS }, (_, i) => worker(fx.port, rng(seed + i), until, `40000000100${i}`)));
  assert.ok(rounds.reduce((a, b) => a + b, 0) > WORKERS, `seed ${seed}: the fuzzer barely ran`);

  // Every fuzzing session must be gone, or connections leak.
  for (let i = 0; i < 100 && fx.server.sessionCount(IQN) > 0; i++) await new Promise((r) => setTimeout(r, 20));
  assert.equal(fx.server.sessionCount(IQN), 0, `seed ${seed}: sessions left behind`);

  const c = await RawInitiator.connect(fx.port);
  t.after(() => c.close());
  assert.equal((await c.login({ initiatorName: LIBISCSI_INITIATOR, targetName: IQN })).status, 0, `seed ${seed}`);
  for (let i = 0; i < 3 && (await c.scsi(TEST_UNIT_READY)).status !== 0; i++);
  const data = randomBytes(128 * 1024);
  assert.equal((await c.scsi(write10(2048, 256), { write: data })).status, 0, `seed ${seed}`);
  const back = await c.scsi(read10(2048, 256), { read: data.length });
  assert.equal(back.status, 0);
  assert.ok(back.data.equals(data), `seed ${seed}: data read back differs`);
});
