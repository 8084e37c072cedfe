// A deliberately small iSCSI initiator for tests: it speaks raw PDUs over a
// socket so tests can check exact target behaviour (and misbehave on purpose).

import { connect, type Socket } from 'node:net';
import { createHash } from 'node:crypto';
import { PduFramer } from '../../src/iscsi/pdu/framer.js';
import { encodePdu, newBhs, opcodeOf, type Pdu } from '../../src/iscsi/pdu/pdu.js';
import { Opcode } from '../../src/iscsi/pdu/constants.js';
import { encodeText, parseText } from '../../src/iscsi/pdu/text.js';

export interface LoginOptions {
  initiatorName: string;
  targetName?: string;
  discovery?: boolean;
  chap?: { username: string; password: string };
  /** 6-byte ISID as hex; sessions sharing one replace each other (reinstatement). */
  isid?: string;
  /** Operational keys to offer; sensible defaults otherwise. */
  keys?: Record<string, string>;
}

export interface ScsiResult {
  status: number;
  response: number;
  flags: number;
  residual: number;
  data: Buffer;
  sense: Buffer;
  /** Every PDU the target sent for this command. */
  pdus: Pdu[];
}

export class RawInitiator {
  cmdSN = 1;
  expStatSN = 0;
  maxCmdSN = 0;
  private itt = 1;
  private readonly framer = new PduFramer({ headerDigest: false, dataDigest: false, maxDataSegmentLength: 1 << 24 });
  private queue: Pdu[] = [];
  private waiters: Array<() => void> = [];
  closed = false;
  digests = { headerDigest: false, dataDigest: false };
  maxXmit = 8192;

  private constructor(readonly socket: Socket) {
    socket.on('data', (chunk: Buffer) => {
      this.framer.push(chunk);
      for (let p = this.framer.next(); p; p = this.framer.next()) this.queue.push(p);
      this.wake();
    });
    socket.on('close', () => {
      this.closed = true;
      this.wake();
    });
    socket.on('error', () => undefined);
  }

  static connect(port: number, host = '127.0.0.1'): Promise<RawInitiator> {
    return new Promise((resolve, reject) => {
      const socket = connect(port, host, () => resolve(new RawInitiator(socket)));
      socket.once('error', reject);
    });
  }

  private wake(): void {
    const w = this.waiters;
    this.waiters = [];
    for (const f of w) f();
  }

  nextItt(): number {
    return this.itt++;
  }

  send(bhs: Buffer, data: Buffer = Buffer.alloc(0), ahs: Buffer = Buffer.alloc(0)): void {
    for (const part of encodePdu({ bhs, ahs, data }, this.digests)) this.socket.write(part);
  }

  writeRaw(bytes: Buffer): void {
    this.socket.write(bytes);
  }

  /** The next PDU from the target, or null when the connection closes or nothing comes within the timeout. */
  async next(timeoutMs = 3000): Promise<Pdu | null> {
    const deadline = Date.now() + timeoutMs;
    while (this.queue.length === 0) {
      if (this.closed) return null;
      const left = deadline - Date.now();
      if (left <= 0) return null;
      await new Promise<void>((resolve) => {
        const t = setTimeout(resolve, left);
        this.waiters.push(() => {
          clearTimeout(t);
          resolve();
        });
      });
    }
    const pdu = this.queue.shift()!;
    this.track(pdu);
    return pdu;
  }

  async expect(opcode: Opcode, timeoutMs = 3000): Promise<Pdu> {
    const pdu = await this.next(timeoutMs);
    if (!pdu) throw new Error(`expected opcode 0x${opcode.toString(16)}, got nothing`);
    if (opcodeOf(pdu.bhs) !== opcode) throw new Error(`expected opcode 0x${opcode.toString(16)}, got 0x${opcodeOf(pdu.bhs).toString(16)}`);
    return pdu;
  }

  /** Resolves once the target has closed the connection (or rejects after the timeout). */
  async closedByTarget(timeoutMs = 3000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (!this.closed) {
      if (Date.now() > deadline) throw new Error('connection still open');
      await this.next(Math.max(1, deadline - Date.now()));
    }
  }

  private track(pdu: Pdu): void {
    const op = opcodeOf(pdu.bhs);
    const carriesStatSN = op !== Opcode.R2T && !(op === Opcode.DataIn && (pdu.bhs[1]! & 0x01) === 0);
    if (carriesStatSN && op !== Opcode.LoginResponse) this.expStatSN = (pdu.bhs.readUInt32BE(24) + 1) >>> 0;
    if (op === Opcode.LoginResponse) this.expStatSN = (pdu.bhs.readUInt32BE(24) + 1) >>> 0;
    if (op !== Opcode.LoginResponse || pdu.bhs.readUInt16BE(36) === 0) this.maxCmdSN = pdu.bhs.readUInt32BE(32);
  }

  private isid = '400000000001';

  private loginPdu(csg: number, nsg: number, transit: boolean, keys: Array<[string, string]>): Buffer {
    const bhs = newBhs(Opcode.LoginRequest, true);
    bhs[1] = (transit ? 0x80 : 0) | (csg << 2) | nsg;
    Buffer.from(this.isid, 'hex').copy(bhs, 8);
    bhs.writeUInt32BE(this.itt, 16);
    bhs.writeUInt32BE(this.cmdSN, 24);
    bhs.writeUInt32BE(this.expStatSN, 28);
    this.send(bhs, encodeText(keys));
    return bhs;
  }

  /** Logs in; returns the final status ((class << 8) | detail) and the last keys received. */
  async login(opts: LoginOptions): Promise<{ status: number; keys: Map<string, string> }> {
    if (opts.isid) this.isid = opts.isid;
    const leading: Array<[string, string]> = [['InitiatorName', opts.initiatorName]];
    if (opts.discovery) leading.push(['SessionType', 'Discovery']);
    else leading.push(['TargetName', opts.targetName!]);
    leading.push(['AuthMethod', opts.chap ? 'CHAP,None' : 'None']);
    this.loginPdu(0, 1, true, leading);
    let res = await this.expect(Opcode.LoginResponse);
    let status = res.bhs.readUInt16BE(36);
    let keys = new Map(parseText(res.data));
    if (status) return { status, keys };
    if (keys.get('AuthMethod') === 'CHAP') {
      if (!opts.chap) throw new Error('target wants CHAP');
      this.loginPdu(0, 1, false, [['CHAP_A', '5']]);
      res = await this.expect(Opcode.LoginResponse);
      status = res.bhs.readUInt16BE(36);
      keys = new Map(parseText(res.data));
      if (status) return { status, keys };
      const id = Number(keys.get('CHAP_I'));
      const challenge = Buffer.from(keys.get('CHAP_C')!.slice(2), 'hex');
      const response = createHash('md5').update(Buffer.of(id)).update(opts.chap.password).update(challenge).digest('hex');
      this.loginPdu(0, 1, true, [
        ['CHAP_N', opts.chap.username],
        ['CHAP_R', `0x${response}`],
      ]);
      res = await this.expect(Opcode.LoginResponse);
      status = res.bhs.readUInt16BE(36);
      if (status) return { status, keys: new Map(parseText(res.data)) };
    }
    const operational: Record<string, string> = {
      HeaderDigest: 'None',
      DataDigest: 'None',
      MaxRecvDataSegmentLength: '8192',
      ...(opts.discovery
        ? {}
        : { InitialR2T: 'No', ImmediateData: 'Yes', FirstBurstLength: '65536', MaxBurstLength: '262144', MaxOutstandingR2T: '1' }),
      ...opts.keys,
    };
    this.loginPdu(1, 3, true, Object.entries(operational));
    res = await this.expect(Opcode.LoginResponse);
    status = res.bhs.readUInt16BE(36);
    keys = new Map(parseText(res.data));
    if (status === 0) {
      this.maxXmit = Number(keys.get('MaxRecvDataSegmentLength') ?? 8192);
      this.digests = { headerDigest: keys.get('HeaderDigest') === 'CRC32C', dataDigest: keys.get('DataDigest') === 'CRC32C' };
      this.framer.options = { ...this.digests, maxDataSegmentLength: 1 << 24 };
    }
    return { status, keys };
  }

  /** A non-immediate PDU header with ITT, CmdSN (consumed) and ExpStatSN filled in. */
  header(opcode: Opcode, opts: { immediate?: boolean; consume?: boolean } = {}): { bhs: Buffer; itt: number } {
    const bhs = newBhs(opcode, opts.immediate);
    const itt = this.nextItt();
    bhs.writeUInt32BE(itt, 16);
    bhs.writeUInt32BE(this.cmdSN, 24);
    bhs.writeUInt32BE(this.expStatSN, 28);
    if (!opts.immediate && opts.consume !== false) this.cmdSN = (this.cmdSN + 1) >>> 0;
    return { bhs, itt };
  }

  /** SendTargets, following the target's continuation (C bit) until the final response; counts the PDUs. */
  async sendTargets(value = 'All'): Promise<Array<[string, string]>> {
    return (await this.sendTargetsCounted(value)).pairs;
  }

  async sendTargetsCounted(value = 'All'): Promise<{ pairs: Array<[string, string]>; responses: number }> {
    const { bhs, itt } = this.header(Opcode.TextRequest);
    bhs[1] = 0x80;
    bhs.writeUInt32BE(0xffffffff, 20);
    this.send(bhs, encodeText([['SendTargets', value]]));
    const parts: Buffer[] = [];
    for (let responses = 1; ; responses++) {
      const res = await this.expect(Opcode.TextResponse);
      parts.push(res.data);
      if (res.bhs[1]! & 0x80) return { pairs: parseText(Buffer.concat(parts)), responses };
      const more = newBhs(Opcode.TextRequest);
      more[1] = 0x80;
      more.writeUInt32BE(itt, 16);
      more.writeUInt32BE(res.bhs.readUInt32BE(20), 20);
      more.writeUInt32BE(this.cmdSN, 24);
      more.writeUInt32BE(this.expStatSN, 28);
      this.cmdSN = (this.cmdSN + 1) >>> 0;
      this.send(more);
    }
  }

  /**
   * Runs one SCSI command to completion: sends write data as immediate data,
   * unsolicited Data-Out up to `firstBurst`, and answers R2Ts.
   */
  async scsi(
    cdb: Buffer,
    opts: { lun?: number; read?: number; write?: Buffer; edtl?: number; immediate?: number; unsolicited?: number; timeoutMs?: number } = {},
  ): Promise<ScsiResult> {
    const { bhs, itt } = this.header(Opcode.ScsiCommand);
    const write = opts.write;
    const edtl = opts.edtl ?? (write ? write.length : opts.read ?? 0);
    const immLen = write ? Math.min(opts.immediate ?? Math.min(this.maxXmit, 65536), write.length) : 0;
    const unsolicitedEnd = write ? Math.min(opts.unsolicited ?? immLen, write.length) : 0;
    bhs[1] = (unsolicitedEnd > immLen ? 0 : 0x80) | (write ? 0x20 : 0) | (opts.read !== undefined ? 0x40 : 0) | 0x01;
    bhs[9] = opts.lun ?? 0;
    bhs.writeUInt32BE(edtl, 20);
    cdb.copy(bhs, 32, 0, Math.min(16, cdb.length));
    this.send(bhs, write ? write.subarray(0, immLen) : Buffer.alloc(0));
    if (write) this.sendDataOut(itt, 0xffffffff, write, immLen, unsolicitedEnd);
    const pdus: Pdu[] = [];
    const chunks: Buffer[] = [];
    for (;;) {
      const pdu = await this.next(opts.timeoutMs ?? 5000);
      if (!pdu) throw new Error('no answer to SCSI command');
      pdus.push(pdu);
      const op = opcodeOf(pdu.bhs);
      if (op === Opcode.R2T) {
        const offset = pdu.bhs.readUInt32BE(40);
        const length = pdu.bhs.readUInt32BE(44);
        this.sendDataOut(itt, pdu.bhs.readUInt32BE(20), write!, offset, offset + length);
        continue;
      }
      if (op === Opcode.DataIn) {
        chunks.push(pdu.data);
        if (pdu.bhs[1]! & 0x01) {
          return {
            status: pdu.bhs[3]!,
            response: 0,
            flags: pdu.bhs[1]!,
            residual: pdu.bhs.readUInt32BE(44),
            data: Buffer.concat(chunks),
            sense: Buffer.alloc(0),
            pdus,
          };
        }
        continue;
      }
      if (op === Opcode.ScsiResponse) {
        const senseLength = pdu.data.length >= 2 ? pdu.data.readUInt16BE(0) : 0;
        return {
          status: pdu.bhs[3]!,
          response: pdu.bhs[2]!,
          flags: pdu.bhs[1]!,
          residual: pdu.bhs.readUInt32BE(44),
          data: Buffer.concat(chunks),
          sense: pdu.data.subarray(2, 2 + senseLength),
          pdus,
        };
      }
      if (op === Opcode.NopIn) continue;
      throw new Error(`unexpected opcode 0x${op.toString(16)} during a SCSI command`);
    }
  }

  sendDataOut(itt: number, ttt: number, data: Buffer, from: number, to: number, dataSN = 0): void {
    for (let offset = from; offset < to; ) {
      const n = Math.min(this.maxXmit, to - offset);
      const bhs = newBhs(Opcode.DataOut);
      bhs[1] = offset + n === to ? 0x80 : 0;
      bhs.writeUInt32BE(itt, 16);
      bhs.writeUInt32BE(ttt, 20);
      bhs.writeUInt32BE(this.expStatSN, 28);
      bhs.writeUInt32BE(dataSN++, 36);
      bhs.writeUInt32BE(offset, 40);
      this.send(bhs, data.subarray(offset, offset + n));
      offset += n;
    }
  }

  async logout(): Promise<number> {
    const { bhs } = this.header(Opcode.LogoutRequest, { immediate: true });
    bhs[1] = 0x80;
    this.send(bhs);
    const res = await this.expect(Opcode.LogoutResponse);
    return res.bhs[2]!;
  }

  close(): void {
    this.socket.destroy();
  }
}

export function read10(lba: number, blocks: number): Buffer {
  const cdb = Buffer.alloc(10);
  cdb[0] = 0x28;
  cdb.writeUInt32BE(lba, 2);
  cdb.writeUInt16BE(blocks, 7);
  return cdb;
}

export function write10(lba: number, blocks: number): Buffer {
  const cdb = Buffer.alloc(10);
  cdb[0] = 0x2a;
  cdb.writeUInt32BE(lba, 2);
  cdb.writeUInt16BE(blocks, 7);
  return cdb;
}

export const TEST_UNIT_READY = Buffer.alloc(6);
