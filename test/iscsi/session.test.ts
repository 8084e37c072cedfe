import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { open } from 'node:fs/promises';
import { randomBytes } from 'node:crypto';
import { IscsiServer, parsePortal, type IscsiServerOptions } from '../../src/iscsi/server.js';
import { openFileLogicalUnit } from '../../src/iscsi/scsi/file-lu.js';
import { ThrottledLogicalUnit } from '../../src/iscsi/scsi/throttle.js';
import type { ItNexus, LogicalUnit, ResetKind, ScsiCommand } from '../../src/iscsi/scsi/types.js';
import { Opcode, LoginStatus } from '../../src/iscsi/pdu/constants.js';
import { encodePdu, newBhs, NO_DIGESTS, opcodeOf, type Pdu } from '../../src/iscsi/pdu/pdu.js';
import { tempDir } from '../helpers/env.js';
import { RawInitiator, read10, write10, TEST_UNIT_READY } from './raw-initiator.js';

const IQN = 'iqn.2010-10.org.openstack:volume-session-test';
const INITIATOR = 'iqn.1994-05.com.example:host1';

/** Passes everything to the real unit and records what the transport asked of it. */
class SpyUnit implements LogicalUnit {
  resets: Array<[ResetKind, string]> = [];
  lost: string[] = [];
  commands: ScsiCommand[] = [];
  constructor(private readonly inner: LogicalUnit) {}
  execute(cmd: ScsiCommand) {
    this.commands.push(cmd);
    return this.inner.execute(cmd);
  }
  reset(kind: ResetKind, nexus: ItNexus) {
    this.resets.push([kind, nexus.id]);
    this.inner.reset(kind, nexus);
  }
  nexusLost(nexus: ItNexus) {
    this.lost.push(nexus.id);
    this.inner.nexusLost(nexus);
  }
  resized() {
    return this.inner.resized();
  }
  close() {
    return this.inner.close();
  }
}

async function setup(t: TestContext, options: IscsiServerOptions = {}, wrap: (lu: LogicalUnit) => LogicalUnit = (lu) => lu) {
  const dir = await tempDir(t);
  const path = join(dir, 'vol.img');
  const fh = await open(path, 'w');
  await fh.truncate(64 << 20);
  await fh.close();
  const lu = await openFileLogicalUnit({ path, serial: 'session-test', deviceId: '00112233445566778899aabbccddeeff' });
  const wrapped = wrap(lu);
  const spy = new SpyUnit(wrapped);
  const server = new IscsiServer(options);
  const { port } = await server.listen('127.0.0.1:0');
  server.addTarget({ iqn: IQN, luns: new Map([[0, spy]]) });
  server.allowInitiator(IQN, INITIATOR);
  const clients: RawInitiator[] = [];
  t.after(async () => {
    for (const c of clients) c.close();
    await server.close();
    if (wrapped !== lu) await wrapped.close();
    await lu.close();
  });
  const client = async (): Promise<RawInitiator> => {
    const c = await RawInitiator.connect(port);
    clients.push(c);
    return c;
  };
  return { server, port, spy, client };
}

/** Logs in and clears the power-on unit attention a fresh nexus may carry. */
async function ready(c: RawInitiator, keys?: Record<string, string>): Promise<void> {
  const { status } = await c.login({ initiatorName: INITIATOR, targetName: IQN, ...(keys ? { keys } : {}) });
  assert.equal(status, 0);
  for (let i = 0; i < 3; i++) if ((await c.scsi(TEST_UNIT_READY)).status === 0) return;
  assert.fail('TEST UNIT READY never returned GOOD');
}

test('discovery lists only reachable targets, with every announced portal', async (t) => {
  const { server, client } = await setup(t, { portals: ['127.0.0.1:3260', '[::1]:3261'] });
  server.addTarget({ iqn: 'iqn.2010-10.org.openstack:volume-hidden', luns: new Map() });
  const c = await client();
  assert.equal((await c.login({ initiatorName: INITIATOR, discovery: true })).status, 0);
  assert.deepEqual(await c.sendTargets('All'), [
    ['TargetName', IQN],
    ['TargetAddress', '127.0.0.1:3260,1'],
    ['TargetAddress', '[::1]:3261,1'],
  ]);
  const stranger = await client();
  assert.equal((await stranger.login({ initiatorName: 'iqn.stranger', discovery: true })).status, 0);
  assert.deepEqual(await stranger.sendTargets('All'), []);
  // SCSI commands have no place in a discovery session.
  const { bhs } = c.header(Opcode.ScsiCommand);
  c.send(bhs);
  assert.equal(opcodeOf((await c.expect(Opcode.Reject)).bhs), Opcode.Reject);
});

test('a SendTargets answer larger than the initiator accepts comes in pieces with the C bit', async (t) => {
  const { server, client } = await setup(t);
  const names = Array.from({ length: 200 }, (_, i) => `iqn.2010-10.org.openstack:volume-${String(i).padStart(4, '0')}-${'x'.repeat(40)}`);
  for (const iqn of names) {
    server.addTarget({ iqn, luns: new Map() });
    server.allowInitiator(iqn, INITIATOR);
  }
  const c = await client();
  assert.equal((await c.login({ initiatorName: INITIATOR, discovery: true })).status, 0);
  const { pairs, responses } = await c.sendTargetsCounted('All');
  assert.ok(responses > 1, 'the answer exceeds 8192 bytes, so it must be split');
  const listed = pairs.filter(([k]) => k === 'TargetName').map(([, v]) => v);
  assert.deepEqual(listed.sort(), [IQN, ...names].sort());
});

/** Sends a WRITE(10) without immediate data and waits for its first R2T. */
async function startWrite(c: RawInitiator, lba: number, length: number): Promise<{ itt: number; r2t: Pdu }> {
  const { bhs, itt } = c.header(Opcode.ScsiCommand);
  bhs[1] = 0x80 | 0x20 | 0x01; // final, write, simple task
  bhs.writeUInt32BE(length, 20);
  write10(lba, length / 512).copy(bhs, 32);
  c.send(bhs);
  const r2t = await c.expect(Opcode.R2T);
  assert.equal(r2t.bhs.readUInt32BE(16), itt);
  return { itt, r2t };
}

/** A Data-Out header answering `r2t`. */
function dataOutHeader(itt: number, r2t: Pdu, dataSN: number, offset: number, final: boolean): Buffer {
  const out = newBhs(Opcode.DataOut);
  out[1] = final ? 0x80 : 0;
  out.writeUInt32BE(itt, 16);
  out.writeUInt32BE(r2t.bhs.readUInt32BE(20), 20);
  out.writeUInt32BE(dataSN, 36);
  out.writeUInt32BE(offset, 40);
  return out;
}

test('writes through immediate data, unsolicited Data-Out and R2T all land, and read back intact', async (t) => {
  const { client, spy } = await setup(t);
  const c = await client();
  await ready(c, { MaxBurstLength: '65536', FirstBurstLength: '16384' });
  const data = randomBytes(300 * 1024);
  const w = await c.scsi(write10(100, data.length / 512), { write: data, immediate: 4096, unsolicited: 16384 });
  assert.equal(w.status, 0);
  assert.ok(w.pdus.filter((p) => opcodeOf(p.bhs) === Opcode.R2T).length >= 4, 'bursts of 64 KiB need several R2Ts');
  const lastWrite = spy.commands.at(-1)!;
  assert.equal(lastWrite.dataOut!.length, data.length);
  assert.ok(lastWrite.dataOut!.parts.length > 1, 'write data is handed over in the pieces it arrived in, not copied together');
  assert.equal(lastWrite.readOnly, false);

  const r = await c.scsi(read10(100, data.length / 512), { read: data.length });
  assert.equal(r.status, 0);
  assert.ok(r.data.equals(data));
  const dataIns = r.pdus.filter((p) => opcodeOf(p.bhs) === Opcode.DataIn);
  assert.equal(dataIns.length, Math.ceil(data.length / 8192), 'Data-In respects the initiator MaxRecvDataSegmentLength');
  assert.ok(dataIns.every((p, i) => p.bhs.readUInt32BE(36) === i), 'DataSN counts from 0');
  assert.equal(r.pdus.filter((p) => opcodeOf(p.bhs) === Opcode.ScsiResponse).length, 0, 'status is collapsed into the last Data-In');
});

test('write data dribbled a few bytes per segment lands intact, merged rather than kept in a thousand pieces', async (t) => {
  const { client, spy } = await setup(t);
  const c = await client();
  await ready(c);
  const data = randomBytes(96 * 1024);
  const { itt, r2t } = await startWrite(c, 300, data.length);
  assert.equal(r2t.bhs.readUInt32BE(44), data.length, 'one burst covers the write');
  const out = dataOutHeader(itt, r2t, 0, 0, true);
  const wire = Buffer.concat(encodePdu({ bhs: out, ahs: Buffer.alloc(0), data }, NO_DIGESTS));
  // A pause after each piece makes the target read it on its own.
  for (let at = 0; at < wire.length; at += 64) {
    c.writeRaw(wire.subarray(at, at + 64));
    await new Promise((resolve) => setTimeout(resolve, 1));
  }
  const res = await c.expect(Opcode.ScsiResponse);
  assert.equal(res.bhs[3], 0);
  const dataOut = spy.commands.at(-1)!.dataOut!;
  assert.equal(dataOut.parts.length, 1, 'more than a thousand pieces are merged into one buffer');
  assert.ok(dataOut.flat().equals(data));
  const r = await c.scsi(read10(300, data.length / 512), { read: data.length });
  assert.ok(r.data.equals(data));
});

test('tiny Data-Out PDUs sharing socket reads with large NOP-Outs do not keep those reads alive', async (t) => {
  const { client, spy } = await setup(t);
  const c = await client();
  await ready(c);
  const sector = Buffer.concat([randomBytes(64), Buffer.alloc(448)]);
  const { itt, r2t } = await startWrite(c, 400, sector.length);
  for (let offset = 0; offset < 512; offset += 8) {
    const out = dataOutHeader(itt, r2t, offset / 8, offset, offset + 8 === 512);
    const ping = c.header(Opcode.NopOut, { immediate: true }).bhs;
    ping[1] = 0x80;
    ping.writeUInt32BE(0xffffffff, 20);
    // One write, one read on the target: an 8-byte Data-Out beside 32 KiB of ping data.
    c.writeRaw(
      Buffer.concat([
        ...encodePdu({ bhs: out, ahs: Buffer.alloc(0), data: sector.subarray(offset, offset + 8) }, NO_DIGESTS),
        ...encodePdu({ bhs: ping, ahs: Buffer.alloc(0), data: Buffer.alloc(32768, 7) }, NO_DIGESTS),
      ]),
    );
    await new Promise((resolve) => setTimeout(resolve, 1));
  }
  for (;;) {
    const pdu = await c.next();
    assert.ok(pdu, 'the write is answered');
    if (opcodeOf(pdu.bhs) === Opcode.NopIn) continue;
    assert.equal(opcodeOf(pdu.bhs), Opcode.ScsiResponse);
    assert.equal(pdu.bhs[3], 0);
    break;
  }
  const dataOut = spy.commands.at(-1)!.dataOut!;
  assert.equal(dataOut.parts.length, 1, 'the pieces were copied out of the 32 KiB reads');
  assert.ok(dataOut.parts[0]!.buffer.byteLength < 32768, 'and the buffer kept is not one of those reads');
  assert.ok(dataOut.flat().equals(sector));
});

test('residual counts: underflow when the initiator expects more, overflow when less', async (t) => {
  const { client } = await setup(t);
  const c = await client();
  await ready(c);
  const under = await c.scsi(read10(0, 1), { read: 2048 });
  assert.equal(under.status, 0);
  assert.equal(under.data.length, 512);
  assert.equal(under.flags & 0x02, 0x02);
  assert.equal(under.residual, 1536);
  const over = await c.scsi(read10(0, 4), { read: 1024 });
  assert.equal(over.data.length, 1024);
  assert.equal(over.flags & 0x04, 0x04);
  assert.equal(over.residual, 1024);
});

test('CHECK CONDITION comes in a SCSI Response with sense data', async (t) => {
  const { client } = await setup(t);
  const c = await client();
  await ready(c);
  const res = await c.scsi(read10(0xfffffff0, 1), { read: 512 });
  assert.equal(res.status, 0x02);
  assert.equal(res.sense[2]! & 0x0f, 0x05, 'ILLEGAL REQUEST');
  assert.equal(res.sense[12], 0x21, 'LBA OUT OF RANGE');
});

test('NOP-Out is answered with its ping data; out-of-window CmdSN is ignored', async (t) => {
  const { client } = await setup(t);
  const c = await client();
  await ready(c);
  const { bhs, itt } = c.header(Opcode.NopOut, { immediate: true });
  bhs[1] = 0x80;
  bhs.writeUInt32BE(0xffffffff, 20);
  c.send(bhs, Buffer.from('ping-data'));
  const nopIn = await c.expect(Opcode.NopIn);
  assert.equal(nopIn.bhs.readUInt32BE(16), itt);
  assert.equal(nopIn.data.toString(), 'ping-data');

  const stray = newBhs(Opcode.ScsiCommand);
  stray[1] = 0x80;
  stray.writeUInt32BE(c.nextItt(), 16);
  stray.writeUInt32BE((c.maxCmdSN + 10) >>> 0, 24);
  c.send(stray);
  assert.equal(await c.next(300), null, 'a command beyond MaxCmdSN gets no answer');
  assert.equal((await c.scsi(TEST_UNIT_READY)).status, 0, 'the session still works');
});

test('the CmdSN window never admits more commands than the queue depth', async (t) => {
  const { client } = await setup(t, { connectionLimits: { queueDepth: 4 } });
  const c = await client();
  await ready(c);
  assert.equal((c.maxCmdSN - c.cmdSN + 1) >>> 0, 4);
});

test('logout answers and tells the unit the nexus is gone', async (t) => {
  const { client, spy } = await setup(t);
  const c = await client();
  await ready(c);
  assert.equal(await c.logout(), 0);
  await c.closedByTarget();
  assert.equal(spy.lost.length, 1);
  assert.match(spy.lost[0]!, /^iqn\.1994-05\.com\.example:host1,i,0x400000000001,t,0x0001$/);
});

test('task management: LUN RESET resets the unit, unknown tasks and LUNs are reported', async (t) => {
  const { client, spy } = await setup(t);
  const c = await client();
  await ready(c);
  const tmf = async (fn: number, lun = 0, ref = 0): Promise<number> => {
    const { bhs } = c.header(Opcode.TaskMgmtRequest, { immediate: true });
    bhs[1] = 0x80 | fn;
    bhs[9] = lun;
    bhs.writeUInt32BE(ref, 20);
    bhs.writeUInt32BE(c.cmdSN + 5, 32);
    c.send(bhs);
    return (await c.expect(Opcode.TaskMgmtResponse)).bhs[2]!;
  };
  assert.equal(await tmf(5), 0);
  assert.deepEqual(spy.resets.map(([k]) => k), ['lun-reset']);
  assert.equal(await tmf(1, 0, 0x7777), 1, 'ABORT TASK of an unknown task');
  assert.equal(await tmf(5, 9), 2, 'LUN RESET of a LUN that does not exist');
  assert.equal(await tmf(2), 0);
  assert.equal(await tmf(6), 0);
  assert.deepEqual(spy.resets.map(([k]) => k), ['lun-reset', 'abort-task-set', 'target-warm-reset']);
  assert.equal(await tmf(8), 4, 'TASK REASSIGN needs ErrorRecoveryLevel 2');
});

test('ABORT TASK: an answered command no longer exists; one still on its way is taken as received', async (t) => {
  const { client } = await setup(t);
  const c = await client();
  await ready(c);
  const abort = async (ref: number, refCmdSN: number, tmfCmdSN: number): Promise<number> => {
    const { bhs } = c.header(Opcode.TaskMgmtRequest, { immediate: true });
    bhs[1] = 0x81;
    bhs.writeUInt32BE(ref, 20);
    bhs.writeUInt32BE(tmfCmdSN, 24);
    bhs.writeUInt32BE(refCmdSN, 32);
    c.send(bhs);
    return (await c.expect(Opcode.TaskMgmtResponse)).bhs[2]!;
  };
  const answeredCmdSN = c.cmdSN;
  await c.scsi(TEST_UNIT_READY);
  assert.equal(await abort(0x1234, answeredCmdSN, c.cmdSN), 1);

  // A command the initiator sent but the target has not seen yet (CmdSN c.cmdSN).
  const lost = c.cmdSN;
  c.cmdSN = (c.cmdSN + 1) >>> 0;
  assert.equal(await abort(0x5678, lost, c.cmdSN), 0);
  // When it does arrive it is ignored, and the session carries on.
  const late = newBhs(Opcode.ScsiCommand);
  late[1] = 0x80;
  late.writeUInt32BE(0x5678, 16);
  late.writeUInt32BE(lost, 24);
  c.send(late);
  assert.equal(await c.next(300), null);
  assert.equal((await c.scsi(TEST_UNIT_READY)).status, 0);
});

test('ABORT TASK of a write still waiting for data ends it silently', async (t) => {
  const { client } = await setup(t);
  const c = await client();
  await ready(c, { InitialR2T: 'Yes' });
  const { itt, r2t } = await startWrite(c, 0, 65536);
  const tmf = c.header(Opcode.TaskMgmtRequest, { immediate: true });
  tmf.bhs[1] = 0x81;
  tmf.bhs.writeUInt32BE(itt, 20);
  c.send(tmf.bhs);
  assert.equal((await c.expect(Opcode.TaskMgmtResponse)).bhs[2], 0);
  // Late data for the aborted task is dropped without a word.
  c.sendDataOut(itt, r2t.bhs.readUInt32BE(20), Buffer.alloc(65536), 0, 65536);
  assert.equal(await c.next(300), null);
  assert.equal((await c.scsi(TEST_UNIT_READY)).status, 0);
});

test('a write held back by a QoS limit and then aborted never reaches the medium', async (t) => {
  const { client } = await setup(t, {}, (lu) => new ThrottledLogicalUnit(lu, { write_iops_sec: 2 }));
  const c = await client();
  await ready(c);
  // The first write takes the allowance, so the second waits about 0.4 s for its turn.
  assert.equal((await c.scsi(write10(0, 1), { write: Buffer.alloc(512, 1) })).status, 0);
  const { bhs, itt } = c.header(Opcode.ScsiCommand);
  bhs[1] = 0x80 | 0x20 | 0x01;
  bhs.writeUInt32BE(512, 20);
  write10(8, 1).copy(bhs, 32);
  c.send(bhs, Buffer.alloc(512, 0xab));
  const tmf = c.header(Opcode.TaskMgmtRequest, { immediate: true });
  tmf.bhs[1] = 0x81;
  tmf.bhs.writeUInt32BE(itt, 20);
  c.send(tmf.bhs);
  assert.equal((await c.expect(Opcode.TaskMgmtResponse)).bhs[2], 0);
  // Past its turn: nothing answers the aborted write, and its data is not on the medium.
  assert.equal(await c.next(800), null);
  const read = await c.scsi(read10(8, 1), { read: 512 });
  assert.equal(read.status, 0);
  assert.deepEqual(read.data, Buffer.alloc(512));
});

test('a Data-Out with a wrong DataSN fails its command with ABORTED COMMAND, not the session', async (t) => {
  const { client } = await setup(t);
  const c = await client();
  await ready(c, { InitialR2T: 'Yes' });
  const { bhs, itt } = c.header(Opcode.ScsiCommand);
  bhs[1] = 0x80 | 0x20;
  bhs.writeUInt32BE(1024, 20);
  write10(0, 2).copy(bhs, 32);
  c.send(bhs);
  const r2t = await c.expect(Opcode.R2T);
  c.sendDataOut(itt, r2t.bhs.readUInt32BE(20), Buffer.alloc(1024), 0, 1024, 27);
  const res = await c.expect(Opcode.ScsiResponse);
  assert.equal(res.bhs[3], 0x02);
  assert.equal(res.data[2 + 2]! & 0x0f, 0x0b, 'ABORTED COMMAND');
  assert.equal((await c.scsi(TEST_UNIT_READY)).status, 0);
});

test('an unknown opcode gets a Reject carrying its header, then the connection ends', async (t) => {
  const { client } = await setup(t);
  const c = await client();
  await ready(c);
  const bogus = newBhs(0x1c as Opcode);
  bogus.writeUInt32BE(0xabcdef01, 16);
  c.send(bogus);
  const reject = await c.expect(Opcode.Reject);
  assert.equal(reject.bhs[2], 0x04);
  assert.equal(reject.data.readUInt32BE(16), 0xabcdef01);
  await c.closedByTarget();
});

test('denyInitiator ends the live session at once and refuses the next login', async (t) => {
  const { client, server, spy } = await setup(t);
  const c = await client();
  await ready(c);
  assert.equal(server.sessionCount(IQN), 1);
  server.denyInitiator(IQN, INITIATOR.toUpperCase());
  await c.closedByTarget(1000);
  assert.equal(server.sessionCount(IQN), 0);
  assert.equal(spy.lost.length, 1);
  const again = await client();
  assert.equal((await again.login({ initiatorName: INITIATOR, targetName: IQN })).status, LoginStatus.AuthorizationFailure);
});

test('removeTarget ends its sessions and later logins find no target', async (t) => {
  const { client, server } = await setup(t);
  const c = await client();
  await ready(c);
  server.removeTarget(IQN);
  await c.closedByTarget(1000);
  const again = await client();
  assert.equal((await again.login({ initiatorName: INITIATOR, targetName: IQN })).status, LoginStatus.TargetNotFound);
});

test('a read-only initiator has readOnly commands and gets DATA PROTECT on writes', async (t) => {
  const { client, server, spy } = await setup(t);
  server.allowInitiator(IQN, INITIATOR, { readOnly: true });
  const c = await client();
  await ready(c);
  const res = await c.scsi(write10(0, 1), { write: Buffer.alloc(512) });
  assert.equal(res.status, 0x02);
  assert.equal(res.sense[2]! & 0x0f, 0x07);
  assert.equal(spy.commands.at(-1)!.readOnly, true);
});

test('CHAP targets: right secret logs in, wrong secrets fail and then get throttled', async (t) => {
  const { client, server } = await setup(t, { loginThrottle: { maxFailures: 2, windowMs: 60_000 } });
  server.addTarget({ iqn: IQN, luns: new Map(), chap: { username: 'u1', password: 'right-secret-1' } });
  const good = await client();
  assert.equal((await good.login({ initiatorName: INITIATOR, targetName: IQN, chap: { username: 'u1', password: 'right-secret-1' } })).status, 0);
  for (let i = 0; i < 2; i++) {
    const bad = await client();
    const { status } = await bad.login({ initiatorName: INITIATOR, targetName: IQN, chap: { username: 'u1', password: 'wrong' } });
    assert.equal(status, LoginStatus.AuthenticationFailure);
    await bad.closedByTarget();
  }
  const throttled = await client();
  const { status } = await throttled.login({ initiatorName: INITIATOR, targetName: IQN, chap: { username: 'u1', password: 'right-secret-1' } });
  assert.equal(status, LoginStatus.ServiceUnavailable);
});

test('header and data digests, when negotiated, protect every PDU after login', async (t) => {
  const { client } = await setup(t, { limits: { preferHeaderDigest: true, preferDataDigest: true } });
  const c = await client();
  await ready(c, { HeaderDigest: 'None,CRC32C', DataDigest: 'None,CRC32C' });
  assert.deepEqual(c.digests, { headerDigest: true, dataDigest: true });
  const data = randomBytes(20000);
  assert.equal((await c.scsi(write10(8, 40), { write: Buffer.concat([data, Buffer.alloc(480)]) })).status, 0);
  const r = await c.scsi(read10(8, 40), { read: 20480 });
  assert.ok(r.data.subarray(0, 20000).equals(data));
});

test('session reinstatement: a second login with the same ISID replaces the first', async (t) => {
  const { client, server } = await setup(t);
  const first = await client();
  await ready(first);
  const second = await client();
  await ready(second);
  await first.closedByTarget(1000);
  assert.equal(server.sessionCount(IQN), 1);
});

test('write buffering is bounded: R2Ts for a second write wait until the first one is done', async (t) => {
  const { client } = await setup(t, { connectionLimits: { writeBufferBudget: 64 * 1024 } });
  const c = await client();
  await ready(c, { InitialR2T: 'Yes', MaxBurstLength: '262144' });
  const start = (lba: number): { itt: number } => {
    const { bhs, itt } = c.header(Opcode.ScsiCommand);
    bhs[1] = 0x80 | 0x20;
    bhs.writeUInt32BE(65536, 20);
    write10(lba, 128).copy(bhs, 32);
    c.send(bhs);
    return { itt };
  };
  const a = start(0);
  const b = start(1000);
  const first = await c.expect(Opcode.R2T);
  assert.equal(first.bhs.readUInt32BE(16), a.itt);
  assert.equal(await c.next(200), null, 'no R2T for the second write while the first holds the budget');
  c.sendDataOut(a.itt, first.bhs.readUInt32BE(20), Buffer.alloc(65536, 0xa1), 0, 65536);
  const answers = [await c.next(), await c.next()];
  const r2t = answers.find((p) => p && opcodeOf(p.bhs) === Opcode.R2T)!;
  const done = answers.find((p) => p && opcodeOf(p.bhs) === Opcode.ScsiResponse)!;
  assert.equal(done.bhs.readUInt32BE(16), a.itt);
  assert.equal(r2t.bhs.readUInt32BE(16), b.itt);
  c.sendDataOut(b.itt, r2t.bhs.readUInt32BE(20), Buffer.alloc(65536, 0xb2), 0, 65536);
  assert.equal((await c.expect(Opcode.ScsiResponse)).bhs[3], 0);
  const back = await c.scsi(read10(1000, 128), { read: 65536 });
  assert.ok(back.data.every((x) => x === 0xb2));
});

test('portals parse as host:port, with IPv6 in brackets', () => {
  assert.deepEqual(parsePortal('10.0.0.5:3260'), { host: '10.0.0.5', port: 3260 });
  assert.deepEqual(parsePortal('[fd00::1]:3261'), { host: 'fd00::1', port: 3261 });
  assert.throws(() => parsePortal('fd00::1:3260'));
  assert.throws(() => parsePortal('host-without-port'));
});

test('a flood of immediate commands beyond twice the queue depth is rejected, not queued', async (t) => {
  const { client } = await setup(t, { connectionLimits: { queueDepth: 2, writeBufferBudget: 1 } });
  const c = await client();
  await ready(c, { InitialR2T: 'Yes' });
  // Writes waiting for R2T data stay open, so each one holds a task.
  const rejected: number[] = [];
  for (let i = 0; i < 6; i++) {
    const { bhs } = c.header(Opcode.ScsiCommand, { immediate: true });
    bhs[1] = 0x80 | 0x20;
    bhs.writeUInt32BE(512, 20);
    write10(i, 1).copy(bhs, 32);
    c.send(bhs);
  }
  for (let pdu = await c.next(300); pdu; pdu = await c.next(300)) {
    if (opcodeOf(pdu.bhs) === Opcode.Reject) rejected.push(pdu.bhs[2]!);
  }
  assert.deepEqual(rejected, [0x06, 0x06]);
});

test('a silent initiator is pinged with NOP-In; answering keeps the session, silence ends it', async (t) => {
  const { client, server, spy } = await setup(t, { connectionLimits: { nopInIntervalMs: 150, nopInTimeoutMs: 300 } });
  const quiet = await client();
  await ready(quiet);
  const ping = await quiet.expect(Opcode.NopIn, 2000);
  assert.equal(ping.bhs.readUInt32BE(16), 0xffffffff);
  assert.notEqual(ping.bhs.readUInt32BE(20), 0xffffffff, 'the target wants an answer');
  await quiet.closedByTarget(2000);
  assert.equal(spy.lost.length, 1, 'the nexus is released');

  const chatty = await client();
  await ready(chatty);
  const deadline = Date.now() + 1200;
  while (Date.now() < deadline) {
    const p = await chatty.next(100);
    if (p && opcodeOf(p.bhs) === Opcode.NopIn) {
      const { bhs } = chatty.header(Opcode.NopOut, { immediate: true });
      bhs[1] = 0x80;
      bhs.writeUInt32BE(0xffffffff, 16);
      bhs.writeUInt32BE(p.bhs.readUInt32BE(20), 20);
      chatty.send(bhs);
    }
  }
  assert.equal(chatty.closed, false);
  assert.equal(server.sessionCount(IQN), 1);
});
