// One iSCSI connection, from the first Login Request to the socket's end. With
// MaxConnections=1 a session is exactly one connection, so this class is also the
// session: it owns the CmdSN window, the task table and the write-data gathering.
// It knows targets only through ConnectionHost, which the server implements.

import type { Socket } from 'node:net';
import { BHS_LENGTH, LoginStatus, Opcode, RejectReason, RESERVED_TAG, Stage, TmfFunction, TmfResponse } from '../pdu/constants.js';
import { FramingError, PduFramer } from '../pdu/framer.js';
import { encodePdu, isFinal, isImmediate, ittOf, newBhs, NO_DIGESTS, opcodeOf, type DigestSettings, type Pdu } from '../pdu/pdu.js';
import { encodeText, parseText, TextFormatError, type TextPairs } from '../pdu/text.js';
import { LoginMachine, type LoginEnvironment, type SessionType } from '../login/login.js';
import type { SessionParams } from '../login/negotiation.js';
import { DataOut, totalLength } from '../scsi/data-out.js';
import { DataDirection, type ItNexus, type LogicalUnit, type ResetKind, type ScsiCommand, type ScsiResponse } from '../scsi/types.js';
import { snAdd, snInWindow, snLessThan } from './serial.js';
import { checkCondition, SenseKey, type Asc } from '../scsi/sense.js';

// Sense for commands the transport itself ends (RFC 7143 11.4.7.2): the task is
// finished with ABORTED COMMAND and the connection carries on.
const PROTOCOL_SERVICE_CRC_ERROR: Asc = [0x47, 0x05];
const DATA_OFFSET_ERROR: Asc = [0x4b, 0x05];
const DATA_PHASE_ERROR: Asc = [0x4b, 0x00];

/** What a connection needs to know about one target. */
export interface TargetRecord {
  readonly iqn: string;
  readonly luns: ReadonlyMap<number, LogicalUnit>;
  /** The initiator's access entry, or undefined when it may not log in. */
  access(initiatorName: string): { readOnly: boolean } | undefined;
}

export interface ConnectionLogger {
  info(obj: object, msg: string): void;
  warn(obj: object, msg: string): void;
  debug(obj: object, msg: string): void;
}

/** The server side of a connection: target lookup, dispatch, bookkeeping. */
export interface ConnectionHost {
  readonly loginEnv: LoginEnvironment;
  readonly logger: ConnectionLogger;
  findTarget(iqn: string): TargetRecord | undefined;
  /** SendTargets answer for this initiator; `current` is the session's target in a normal session. */
  sendTargets(initiatorName: string, value: string, current?: string): TextPairs;
  execute(luns: ReadonlyMap<number, LogicalUnit>, cmd: ScsiCommand): ScsiResponse | Promise<ScsiResponse>;
  /** Whether logins from this address are currently refused after repeated failures. */
  loginThrottled(address: string): boolean;
  loginFailed(address: string): void;
  /** A normal session reached full feature phase; returns false if the target vanished meanwhile. */
  sessionStarted(conn: Connection): boolean;
  connectionClosed(conn: Connection): void;
  /** Task management that reaches beyond one session (LUN and target resets). */
  resetTasks(target: TargetRecord, lun: number | null, except: Connection): void;
}

export interface ConnectionLimits {
  /** Commands one session may have outstanding: the CmdSN window. */
  queueDepth: number;
  /** Largest write one command may gather, in bytes. */
  maxCommandBytes: number;
  /** Write data buffered per connection above which the CmdSN window stops growing. */
  writeBufferBudget: number;
  /** Queued outgoing bytes above which we stop reading from the socket. */
  sendHighWater: number;
  loginTimeoutMs: number;
  /** A session silent this long gets a NOP-In ping... */
  nopInIntervalMs: number;
  /** ...and is closed if nothing at all arrives within this much longer, so a vanished host's nexus is released. */
  nopInTimeoutMs: number;
}

export const DEFAULT_CONNECTION_LIMITS: ConnectionLimits = Object.freeze({
  queueDepth: 128,
  maxCommandBytes: 64 * 1024 * 1024,
  writeBufferBudget: 128 * 1024 * 1024,
  sendHighWater: 32 * 1024 * 1024,
  loginTimeoutMs: 30_000,
  nopInIntervalMs: 30_000,
  nopInTimeoutMs: 30_000,
});

interface R2TState {
  offset: number;
  length: number;
  received: number;
  dataSN: number;
}

interface Task {
  itt: number;
  lun: number;
  lunBytes: Buffer;
  cdb: Buffer;
  edtl: number;
  read: boolean;
  write: boolean;
  /** Counts against the CmdSN window (non-immediate). */
  counted: boolean;
  executing: boolean;
  aborted: boolean;
  /** Immediate data of a write still waiting for room in the write-buffer budget. */
  waitingImmediate?: Buffer[];
  // Write-data gathering, while !executing. `parts` is set from the start of gathering:
  // the data in order as received, or after an out-of-order or very fragmented arrival,
  // the single buffer `buf` the rest is copied into.
  parts?: Buffer[];
  buf?: Buffer;
  /** Its edtl counts against the connection's write-buffer budget. */
  budgeted: boolean;
  /** Bytes of received chunks its pieces keep alive (a piece is a view of a whole chunk). */
  retained: number;
  received: number;
  unsolicitedEnd: number;
  unsolicitedNext: number;
  unsolicitedDataSN: number;
  nextR2TOffset: number;
  r2tSN: number;
  r2ts: Map<number, R2TState>;
}

class ProtocolError extends Error {
  constructor(
    message: string,
    readonly reason: RejectReason = RejectReason.ProtocolError,
  ) {
    super(message);
  }
}

const EMPTY = Buffer.alloc(0);
const LOGIN_MAX_DATA = 8192;
const MAX_LOGIN_PDUS = 32;
const MAX_TEXT_BYTES = 65536;
const GOOD = 0x00;
const CONDITION_MET = 0x04;
const ABORTED_ITT_MEMORY = 256;
/**
 * Pieces one write may gather before they are merged into one buffer. A 1 MiB write
 * arrives in a few dozen socket reads; only an initiator dribbling bytes gets near this.
 */
const MAX_WRITE_PARTS = 1024;
/** Socket reads are at most this long, so a piece never keeps more than this alive beyond itself. */
const MAX_CHUNK_BYTES = 65536;

let nextConnectionId = 1;

export class Connection {
  readonly id = nextConnectionId++;
  readonly remoteAddress: string;
  initiatorName = '';
  sessionType: SessionType = 'Normal';
  target: TargetRecord | undefined;
  nexus: ItNexus | undefined;

  private state: 'login' | 'ffp' | 'closing' | 'closed' = 'login';
  private readonly framer: PduFramer;
  private readonly login: LoginMachine;
  private loginPdus = 0;
  private loginTimer: NodeJS.Timeout | undefined;
  private digests: DigestSettings = NO_DIGESTS;
  private params!: SessionParams;
  private readOnly = false;
  private cid = 0;

  private statSN = 0;
  private expCmdSN = 0;
  private maxCmdSN = 0;
  private readonly aheadCmdSNs = new Set<number>();
  private inFlight = 0;
  private bufferedWriteBytes = 0;
  private readonly tasks = new Map<number, Task>();
  private readonly abortedItts: number[] = [];
  private nextTtt = 1;

  private textIn: Buffer[] = [];
  private textInBytes = 0;
  private textOut: { ttt: number; rest: Buffer } | undefined;

  /** Writes whose solicited data must wait until buffered write data drops below the budget. */
  private readonly waitingForBuffer: Task[] = [];

  private lastReceived = Date.now();
  private pingSentAt = 0;
  private pingTimer: NodeJS.Timeout | undefined;

  private corked = false;
  /** Set while a batch of received bytes is handled; its replies are flushed when it ends. */
  private handlingInput = false;
  private readPaused = false;

  constructor(
    private readonly socket: Socket,
    private readonly host: ConnectionHost,
    private readonly limits: ConnectionLimits = DEFAULT_CONNECTION_LIMITS,
  ) {
    this.remoteAddress = socket.remoteAddress ?? 'unknown';
    this.framer = new PduFramer({ headerDigest: false, dataDigest: false, maxDataSegmentLength: LOGIN_MAX_DATA });
    this.login = new LoginMachine(host.loginEnv);
    this.framer.dataSink = (bhs) => this.takesDataAsParts(bhs);
    socket.setNoDelay(true);
    socket.setKeepAlive(true, 30_000);
    socket.on('data', (chunk: Buffer) => this.onData(chunk));
    socket.on('error', () => this.teardown());
    socket.on('close', () => this.teardown());
    socket.on('drain', () => this.maybeResume());
    this.loginTimer = setTimeout(() => this.terminate('login timeout'), limits.loginTimeoutMs);
    this.loginTimer.unref();
  }

  get isOpen(): boolean {
    return this.state === 'login' || this.state === 'ffp';
  }

  /** Ends the connection at once from the target side (ACL change, target removal, reinstatement). */
  terminate(why: string): void {
    if (this.state === 'closed') return;
    this.host.logger.info({ conn: this.id, initiator: this.initiatorName, why }, 'closing iSCSI connection');
    this.teardown();
    this.socket.destroy();
  }

  /** Aborts this session's tasks, on one LUN or (lun === null) all of them, without answering them. */
  abortTasks(lun: number | null): void {
    for (const task of [...this.tasks.values()]) if (lun === null || task.lun === lun) this.abortTask(task);
  }

  // ---- input ------------------------------------------------------------

  private onData(chunk: Buffer): void {
    if (!this.isOpen) return;
    this.framer.push(chunk);
    this.lastReceived = Date.now();
    this.pingSentAt = 0;
    this.handlingInput = true;
    try {
      this.handleFramedPdus();
    } finally {
      this.handlingInput = false;
      this.flush();
    }
  }

  private handleFramedPdus(): void {
    for (;;) {
      if (!this.isOpen) return;
      let pdu: Pdu | null;
      try {
        pdu = this.framer.next();
      } catch (err) {
        if (err instanceof FramingError) {
          if (err.recoverable && err.bhs && this.state === 'ffp') {
            this.onDataDigestError(err.bhs);
            continue;
          }
          if (err.bhs && this.state === 'ffp') this.sendReject(RejectReason.ProtocolError, err.bhs);
          this.closeAfterFlush(err.message);
          return;
        }
        throw err;
      }
      if (!pdu) return;
      try {
        if (this.state === 'login') this.onLoginPdu(pdu);
        else this.onFfpPdu(pdu);
      } catch (err) {
        if (err instanceof ProtocolError) {
          this.sendReject(err.reason, pdu.bhs);
          this.closeAfterFlush(err.message);
        } else {
          this.host.logger.warn({ conn: this.id, err }, 'unexpected error handling a PDU');
          this.closeAfterFlush('internal error');
        }
        return;
      }
    }
  }

  // ---- login ------------------------------------------------------------

  private onLoginPdu(pdu: Pdu): void {
    const bhs = pdu.bhs;
    if (opcodeOf(bhs) !== Opcode.LoginRequest) {
      this.sendLoginReject(bhs, LoginStatus.InvalidDuringLogin);
      return;
    }
    if (++this.loginPdus > MAX_LOGIN_PDUS) {
      this.sendLoginReject(bhs, LoginStatus.InitiatorError);
      return;
    }
    if (this.loginPdus === 1) {
      if (this.host.loginThrottled(this.remoteAddress)) {
        this.host.logger.warn({ remote: this.remoteAddress }, 'iSCSI login refused: too many recent failures');
        this.sendLoginReject(bhs, LoginStatus.ServiceUnavailable);
        return;
      }
      this.statSN = bhs.readUInt32BE(28);
      this.cid = bhs.readUInt16BE(20);
    }
    this.expCmdSN = bhs.readUInt32BE(24);
    const flags = bhs[1]!;
    const reply = this.login.handle({
      transit: (flags & 0x80) !== 0,
      cont: (flags & 0x40) !== 0,
      csg: (flags >> 2) & 3,
      nsg: flags & 3,
      versionMax: bhs[2]!,
      versionMin: bhs[3]!,
      isid: bhs.subarray(8, 14),
      tsih: bhs.readUInt16BE(14),
      data: pdu.data,
    });
    const result = this.login.result;
    if (reply.status !== LoginStatus.Success) {
      this.host.logger.warn(
        { remote: this.remoteAddress, initiator: result.initiatorName, status: reply.status.toString(16), reason: reply.reason },
        'iSCSI login failed',
      );
      this.sendLoginReject(bhs, reply.status);
      return;
    }
    const res = this.loginResponseHeader(bhs, LoginStatus.Success);
    res[1] = (reply.transit ? 0x80 : 0) | (reply.csg << 2) | (reply.transit ? reply.nsg : 0);
    if (this.login.finished) res.writeUInt16BE(result.tsih, 14);
    this.maxCmdSN = snAdd(this.expCmdSN, this.limits.queueDepth - 1);
    res.writeUInt32BE(this.maxCmdSN, 32);
    this.send(res, encodeText(reply.keys));
    if (this.login.finished) this.enterFullFeature();
  }

  private loginResponseHeader(req: Buffer, status: LoginStatus): Buffer {
    const res = newBhs(Opcode.LoginResponse);
    req.copy(res, 8, 8, 16); // ISID and TSIH
    res.writeUInt32BE(ittOf(req), 16);
    res.writeUInt32BE(this.takeStatSN(), 24);
    res.writeUInt32BE(this.expCmdSN, 28);
    res.writeUInt32BE(this.expCmdSN, 32);
    res[36] = status >> 8;
    res[37] = status & 0xff;
    return res;
  }

  private sendLoginReject(req: Buffer, status: LoginStatus): void {
    const res = this.loginResponseHeader(req, status);
    res[1] = (req[1]! & 0x0c);
    this.send(res, EMPTY);
    if (status === LoginStatus.AuthenticationFailure || status === LoginStatus.AuthorizationFailure) {
      this.host.loginFailed(this.remoteAddress);
    }
    this.closeAfterFlush('login failed');
  }

  private enterFullFeature(): void {
    clearTimeout(this.loginTimer);
    const result = this.login.result;
    // The final login response went out without digests; everything after uses them.
    this.params = result.params;
    this.initiatorName = result.initiatorName;
    this.sessionType = result.sessionType;
    this.digests = { headerDigest: result.params.headerDigest, dataDigest: result.params.dataDigest };
    this.framer.options = { ...this.digests, maxDataSegmentLength: result.params.maxRecvDataSegmentLength };
    this.state = 'ffp';
    this.pingTimer = setInterval(() => this.checkAlive(), Math.min(this.limits.nopInIntervalMs, this.limits.nopInTimeoutMs) / 2);
    this.pingTimer.unref();
    if (result.sessionType === 'Normal') {
      const target = this.host.findTarget(result.targetName!);
      const access = target?.access(result.initiatorName);
      if (!target || !access) {
        this.terminate('target or access removed during login');
        return;
      }
      this.target = target;
      this.readOnly = access.readOnly;
      const isid = result.isid.toString('hex');
      const portName = `${result.initiatorName},i,0x${isid}`;
      const tpgt = `t,0x${this.host.loginEnv.portalGroupTag.toString(16).padStart(4, '0')}`;
      this.nexus = {
        id: `${portName},${tpgt}`,
        initiatorName: result.initiatorName,
        initiatorPortName: portName,
        targetPortName: `${target.iqn},${tpgt}`,
      };
      if (!this.host.sessionStarted(this)) {
        this.terminate('target removed during login');
        return;
      }
    }
    this.host.logger.info(
      { conn: this.id, remote: this.remoteAddress, initiator: this.initiatorName, target: this.target?.iqn, type: this.sessionType, headerDigest: this.digests.headerDigest },
      'iSCSI session started',
    );
  }

  // ---- full feature phase -------------------------------------------------

  private onFfpPdu(pdu: Pdu): void {
    switch (opcodeOf(pdu.bhs)) {
      case Opcode.ScsiCommand:
        return this.onScsiCommand(pdu);
      case Opcode.DataOut:
        return this.onDataOut(pdu);
      case Opcode.NopOut:
        return this.onNopOut(pdu);
      case Opcode.TaskMgmtRequest:
        return this.onTaskManagement(pdu);
      case Opcode.TextRequest:
        return this.onText(pdu);
      case Opcode.LogoutRequest:
        return this.onLogout(pdu);
      case Opcode.Snack:
        // ErrorRecoveryLevel 0 has no SNACK.
        return this.sendReject(RejectReason.CommandNotSupported, pdu.bhs);
      default:
        throw new ProtocolError(`unexpected opcode 0x${opcodeOf(pdu.bhs).toString(16)}`);
    }
  }

  /**
   * Applies CmdSN ordering; false means the PDU is silently ignored, as RFC 7143 4.2.2.1
   * requires for non-immediate commands outside the window and for duplicates.
   */
  private acceptCmdSN(bhs: Buffer): boolean {
    if (isImmediate(bhs)) return true;
    const cmdSN = bhs.readUInt32BE(24);
    if (!snInWindow(cmdSN, this.expCmdSN, this.maxCmdSN)) return false;
    if (this.aheadCmdSNs.has(cmdSN)) return false;
    this.markCmdSNReceived(cmdSN);
    return true;
  }

  private markCmdSNReceived(cmdSN: number): void {
    if (cmdSN !== this.expCmdSN) {
      this.aheadCmdSNs.add(cmdSN);
      return;
    }
    this.expCmdSN = snAdd(this.expCmdSN, 1);
    while (this.aheadCmdSNs.delete(this.expCmdSN)) this.expCmdSN = snAdd(this.expCmdSN, 1);
  }

  /** The MaxCmdSN to advertise: grows as commands finish, never shrinks (commands may already be on the wire). */
  private windowMax(): number {
    const free = this.bufferedWriteBytes > this.limits.writeBufferBudget ? 0 : this.limits.queueDepth - this.inFlight;
    const candidate = snAdd(this.expCmdSN, free - 1);
    if (snLessThan(this.maxCmdSN, candidate)) this.maxCmdSN = candidate;
    return this.maxCmdSN;
  }

  private takeStatSN(): number {
    const sn = this.statSN;
    this.statSN = snAdd(sn, 1);
    return sn;
  }

  /** Fills StatSN / ExpCmdSN / MaxCmdSN at bytes 24..35 of a target PDU. */
  private stampSequence(bhs: Buffer, advanceStatSN: boolean): void {
    bhs.writeUInt32BE(advanceStatSN ? this.takeStatSN() : this.statSN, 24);
    bhs.writeUInt32BE(this.expCmdSN, 28);
    bhs.writeUInt32BE(this.windowMax(), 32);
  }

  private onScsiCommand(pdu: Pdu): void {
    const bhs = pdu.bhs;
    if (this.sessionType === 'Discovery' || !this.target || !this.nexus) {
      this.sendReject(RejectReason.ProtocolError, bhs);
      return;
    }
    if (!this.acceptCmdSN(bhs)) return;
    const itt = ittOf(bhs);
    const flags = bhs[1]!;
    const read = (flags & 0x40) !== 0;
    const write = (flags & 0x20) !== 0;
    const edtl = bhs.readUInt32BE(20);
    if (this.tasks.has(itt)) return this.sendReject(RejectReason.TaskInProgress, bhs);
    // Immediate commands bypass the CmdSN window, so they need a bound of their own.
    if (isImmediate(bhs) && this.tasks.size >= 2 * this.limits.queueDepth) {
      return this.sendReject(RejectReason.ImmediateCommandReject, bhs);
    }
    if (read && write) return this.sendReject(RejectReason.CommandNotSupported, bhs); // bidirectional
    if (!write && (pdu.data.length || pdu.parts)) return this.sendReject(RejectReason.InvalidPduField, bhs);
    let cdb = bhs.subarray(32, 48);
    if (pdu.ahs.length >= 4 && pdu.ahs[2] === 1) {
      // Extended CDB AHS: AHSLength counts the reserved byte, then the CDB bytes beyond 16.
      const extra = pdu.ahs.readUInt16BE(0) - 1;
      if (extra < 0 || 4 + extra > pdu.ahs.length) return this.sendReject(RejectReason.InvalidPduField, bhs);
      cdb = Buffer.concat([cdb, pdu.ahs.subarray(4, 4 + extra)]);
    }
    const task: Task = {
      itt,
      lun: decodeLun(bhs),
      lunBytes: bhs.subarray(8, 16),
      cdb,
      edtl,
      read,
      write,
      counted: !isImmediate(bhs),
      executing: false,
      aborted: false,
      budgeted: false,
      retained: 0,
      received: 0,
      unsolicitedEnd: 0,
      unsolicitedNext: 0,
      unsolicitedDataSN: 0,
      nextR2TOffset: 0,
      r2tSN: 0,
      r2ts: new Map(),
    };
    if (write) {
      const { pieces: imm, length: immLength } = dataPieces(pdu);
      if (immLength && !this.params.immediateData) return this.sendReject(RejectReason.ProtocolError, bhs);
      if (immLength > edtl || immLength > this.params.firstBurstLength) {
        return this.sendReject(RejectReason.InvalidPduField, bhs);
      }
      if (edtl > this.limits.maxCommandBytes) return this.sendReject(RejectReason.LongOperationReject, bhs);
      this.tasks.set(itt, task);
      if (task.counted) this.inFlight++;
      if (immLength === edtl) {
        task.parts = imm;
        task.received = immLength;
        this.execute(task);
        return;
      }
      const final = (flags & 0x80) !== 0;
      task.unsolicitedEnd = final || this.params.initialR2T ? immLength : Math.min(this.params.firstBurstLength, edtl);
      task.unsolicitedNext = immLength;
      task.nextR2TOffset = task.unsolicitedEnd;
      if (task.unsolicitedEnd > immLength || this.hasBufferRoom(edtl)) {
        // Unsolicited data is coming whatever we do, so that case cannot wait for the budget.
        this.startGathering(task, imm, immLength);
      } else {
        // Solicited data only: hold the R2Ts until buffered writes drain below the budget.
        task.waitingImmediate = imm;
        this.waitingForBuffer.push(task);
      }
      return;
    }
    this.tasks.set(itt, task);
    if (task.counted) this.inFlight++;
    this.execute(task);
  }

  private hasBufferRoom(bytes: number): boolean {
    return this.bufferedWriteBytes === 0 || this.bufferedWriteBytes + bytes <= this.limits.writeBufferBudget;
  }

  /** Counts a write against the buffer budget, seeded with its immediate data, and asks for the rest. */
  private startGathering(task: Task, immediate: Buffer[], immediateLength: number): void {
    task.parts = [];
    this.gather(task, 0, immediate, immediateLength);
    task.budgeted = true;
    this.bufferedWriteBytes += task.edtl;
    this.issueR2Ts(task);
  }

  private startWaitingWrites(): void {
    while (this.waitingForBuffer.length && this.hasBufferRoom(this.waitingForBuffer[0]!.edtl)) {
      const task = this.waitingForBuffer.shift()!;
      if (this.tasks.get(task.itt) !== task || task.aborted) continue;
      const imm = task.waitingImmediate!;
      task.waitingImmediate = undefined;
      this.startGathering(task, imm, totalLength(imm));
    }
  }

  /**
   * Adds write data that checkDataOut accepted. In-order pieces are kept as they are. The
   * first piece out of order, one too many, or pieces that would keep far more of the
   * received chunks alive than the write's own size (tiny Data-Out PDUs sharing reads
   * with large other PDUs) move the task to one buffer of its full length, which
   * everything after is copied into.
   */
  private gather(task: Task, offset: number, pieces: Buffer[], length: number): void {
    const parts = task.parts!;
    let retained = task.retained;
    for (const piece of pieces) retained += piece.buffer.byteLength;
    if (
      !task.buf &&
      offset === task.received &&
      parts.length + pieces.length <= MAX_WRITE_PARTS &&
      retained <= 2 * task.edtl + MAX_CHUNK_BYTES
    ) {
      for (const piece of pieces) parts.push(piece);
      task.retained = retained;
    } else {
      if (!task.buf) {
        task.buf = Buffer.allocUnsafe(task.edtl);
        let at = 0;
        for (const part of parts) at += part.copy(task.buf, at);
        task.parts = [task.buf];
      }
      let at = offset;
      for (const piece of pieces) at += piece.copy(task.buf, at);
    }
    task.received += length;
  }

  private issueR2Ts(task: Task): void {
    while (task.r2ts.size < this.params.maxOutstandingR2T && task.nextR2TOffset < task.edtl) {
      const offset = task.nextR2TOffset;
      const length = Math.min(this.params.maxBurstLength, task.edtl - offset);
      const ttt = this.allocateTtt();
      task.r2ts.set(ttt, { offset, length, received: 0, dataSN: 0 });
      task.nextR2TOffset += length;
      const bhs = newBhs(Opcode.R2T);
      bhs[1] = 0x80;
      task.lunBytes.copy(bhs, 8);
      bhs.writeUInt32BE(task.itt, 16);
      bhs.writeUInt32BE(ttt, 20);
      this.stampSequence(bhs, false);
      bhs.writeUInt32BE(task.r2tSN++, 36);
      bhs.writeUInt32BE(offset, 40);
      bhs.writeUInt32BE(length, 44);
      this.send(bhs, EMPTY);
    }
  }

  private allocateTtt(): number {
    const ttt = this.nextTtt;
    this.nextTtt = this.nextTtt >= 0xfffffffe ? 1 : this.nextTtt + 1;
    return ttt;
  }

  private onDataOut(pdu: Pdu): void {
    const bhs = pdu.bhs;
    const itt = ittOf(bhs);
    const task = this.tasks.get(itt);
    if (!task || !task.parts || task.executing) {
      // Data for a task we aborted may still be in flight; anything else is an error.
      if (this.abortedItts.includes(itt)) return;
      return this.sendReject(RejectReason.InvalidPduField, bhs);
    }
    const { pieces, length } = dataPieces(pdu);
    const problem = this.checkDataOut(task, bhs, length);
    if (problem === 'reject') return this.sendReject(RejectReason.InvalidPduField, bhs);
    if (problem) return this.failTask(task, problem);
    this.gather(task, bhs.readUInt32BE(40), pieces, length);
    const ttt = bhs.readUInt32BE(20);
    if (ttt === RESERVED_TAG) {
      task.unsolicitedNext += length;
      task.unsolicitedDataSN++;
    } else {
      const r2t = task.r2ts.get(ttt)!;
      r2t.received += length;
      r2t.dataSN++;
      if (r2t.received === r2t.length) {
        task.r2ts.delete(ttt);
        this.issueR2Ts(task);
      }
    }
    if (task.received === task.edtl) this.execute(task);
  }

  /**
   * Whether a Data-Out fits its task's sequence: in order, inside the burst it
   * answers, with the F bit exactly at the burst's end. 'reject' for an unknown
   * R2T tag; an ASC to fail the task with; null when it fits.
   */
  private checkDataOut(task: Task, bhs: Buffer, length: number): Asc | 'reject' | null {
    const ttt = bhs.readUInt32BE(20);
    const dataSN = bhs.readUInt32BE(36);
    const offset = bhs.readUInt32BE(40);
    const final = isFinal(bhs);
    if (ttt === RESERVED_TAG) {
      if (dataSN !== task.unsolicitedDataSN) return DATA_PHASE_ERROR;
      if (offset !== task.unsolicitedNext || offset + length > task.unsolicitedEnd) return DATA_OFFSET_ERROR;
      if (final !== (offset + length === task.unsolicitedEnd)) return DATA_PHASE_ERROR;
      return null;
    }
    const r2t = task.r2ts.get(ttt);
    if (!r2t) return 'reject';
    if (dataSN !== r2t.dataSN) return DATA_PHASE_ERROR;
    if (offset !== r2t.offset + r2t.received || r2t.received + length > r2t.length) return DATA_OFFSET_ERROR;
    if (final !== (r2t.received + length === r2t.length)) return DATA_PHASE_ERROR;
    return null;
  }

  /**
   * The framer's data sink: write data that arrives split over several socket reads is
   * taken as those pieces, for one vectored file write, instead of being assembled.
   */
  private takesDataAsParts(bhs: Buffer): boolean {
    if (this.state !== 'ffp') return false;
    const op = opcodeOf(bhs);
    return op === Opcode.DataOut || (op === Opcode.ScsiCommand && (bhs[1]! & 0x20) !== 0);
  }

  private execute(task: Task): void {
    task.executing = true;
    const cmd: ScsiCommand = {
      cdb: task.cdb,
      lun: task.lun,
      nexus: this.nexus!,
      expectedLength: task.edtl,
      direction: task.write ? DataDirection.Write : task.read ? DataDirection.Read : DataDirection.None,
      readOnly: this.readOnly,
      task,
    };
    if (task.parts) cmd.dataOut = task.buf ? DataOut.of(task.buf) : DataOut.fromParts(task.parts);
    let result: ScsiResponse | Promise<ScsiResponse>;
    try {
      result = this.host.execute(this.target!.luns, cmd);
    } catch (err) {
      result = Promise.reject(err);
    }
    // Most commands are answered from the page cache at once; a promise would only add a turn.
    if (!(result instanceof Promise)) return this.complete(task, result);
    result.then(
      (res) => this.complete(task, res),
      (err: unknown) => {
        this.host.logger.warn({ conn: this.id, err }, 'SCSI command failed in the logical unit');
        this.complete(task, null);
      },
    );
  }

  private releaseTask(task: Task): void {
    if (this.tasks.get(task.itt) !== task) return;
    this.tasks.delete(task.itt);
    if (task.counted) this.inFlight--;
    if (task.budgeted) {
      task.budgeted = false;
      this.bufferedWriteBytes -= task.edtl;
      task.parts = undefined;
      task.buf = undefined;
      if (this.state === 'ffp') this.startWaitingWrites();
    }
  }

  /** Sends the outcome; `res` null means the logical unit failed (iSCSI response "target failure"). */
  private complete(task: Task, res: ScsiResponse | null): void {
    this.releaseTask(task);
    if (task.aborted || this.state !== 'ffp') return;
    if (!res) {
      this.sendScsiResponse(task, 0x01, 0, undefined, 0, 0, task.r2tSN);
      return;
    }
    const data = res.data;
    const actual = data ? data.length : 0;
    // What the command itself would move: the read data, or for writes the Data-Out
    // the CDB called for (the logical unit says; without that, what was sent).
    const wanted = task.read ? actual : res.transferLength ?? (task.write ? task.edtl : actual);
    let residualFlags = 0;
    let residual = 0;
    if (wanted < task.edtl) {
      residualFlags = 0x02;
      residual = task.edtl - wanted;
    } else if (wanted > task.edtl) {
      residualFlags = 0x04;
      residual = wanted - task.edtl;
    }
    const sendLength = task.read && data ? Math.min(actual, task.edtl) : 0;
    const collapse = sendLength > 0 && !res.sense && (res.status === GOOD || res.status === CONDITION_MET);
    let dataSN = 0;
    if (sendLength > 0) dataSN = this.sendDataIn(task, data!, sendLength, collapse ? res.status : -1, residualFlags, residual);
    if (!collapse) {
      this.sendScsiResponse(task, 0x00, res.status, res.sense, residualFlags, residual, task.read ? dataSN : task.r2tSN);
    }
  }

  /** Data-In PDUs of at most the initiator's MaxRecvDataSegmentLength, F at each MaxBurstLength boundary. Returns the count. */
  private sendDataIn(task: Task, data: Buffer, length: number, status: number, residualFlags: number, residual: number): number {
    const segment = this.params.maxXmitDataSegmentLength;
    const burst = this.params.maxBurstLength;
    let dataSN = 0;
    let offset = 0;
    let burstLeft = burst;
    while (offset < length) {
      const n = Math.min(segment, length - offset, burstLeft);
      const last = offset + n === length;
      burstLeft -= n;
      const bhs = newBhs(Opcode.DataIn);
      let flags = last || burstLeft === 0 ? 0x80 : 0;
      if (last && status >= 0) {
        flags |= 0x01 | residualFlags;
        bhs[3] = status;
        bhs.writeUInt32BE(residual, 44);
      }
      bhs[1] = flags;
      task.lunBytes.copy(bhs, 8);
      bhs.writeUInt32BE(task.itt, 16);
      bhs.writeUInt32BE(RESERVED_TAG, 20);
      this.stampSequence(bhs, last && status >= 0);
      bhs.writeUInt32BE(dataSN++, 36);
      bhs.writeUInt32BE(offset, 40);
      this.send(bhs, data.subarray(offset, offset + n));
      offset += n;
      if (burstLeft === 0) burstLeft = burst;
    }
    return dataSN;
  }

  private sendScsiResponse(
    task: Task,
    response: number,
    status: number,
    sense: Buffer | undefined,
    residualFlags: number,
    residual: number,
    expDataSN: number,
  ): void {
    const bhs = newBhs(Opcode.ScsiResponse);
    bhs[1] = 0x80 | residualFlags;
    bhs[2] = response;
    bhs[3] = status;
    bhs.writeUInt32BE(task.itt, 16);
    this.stampSequence(bhs, true);
    bhs.writeUInt32BE(expDataSN, 36);
    bhs.writeUInt32BE(residual, 44);
    let data = EMPTY;
    if (sense && sense.length) {
      data = Buffer.allocUnsafe(2 + sense.length);
      data.writeUInt16BE(sense.length, 0);
      sense.copy(data, 2);
    }
    this.send(bhs, data);
  }

  /**
   * Ends a task the transport cannot complete (bad Data-Out sequence, data digest
   * error) with CHECK CONDITION, ABORTED COMMAND. Its remaining Data-Out is ignored.
   */
  private failTask(task: Task, asc: Asc): void {
    this.rememberAborted(task.itt);
    task.aborted = true;
    this.releaseTask(task);
    const res = checkCondition(SenseKey.ABORTED_COMMAND, asc);
    this.sendScsiResponse(task, 0x00, res.status, res.sense, 0, 0, task.r2tSN);
  }

  /** A PDU whose data failed its digest: the header is sound, so only its task fails. */
  private onDataDigestError(bhs: Buffer): void {
    this.sendReject(RejectReason.DataDigestError, bhs);
    const op = opcodeOf(bhs);
    if (op === Opcode.DataOut) {
      const task = this.tasks.get(ittOf(bhs));
      if (task && !task.executing) this.failTask(task, PROTOCOL_SERVICE_CRC_ERROR);
    } else if (op !== Opcode.Snack) {
      // The rejected command still used its CmdSN; without this the window would stall.
      this.acceptCmdSN(bhs);
    }
  }

  private rememberAborted(itt: number): void {
    this.abortedItts.push(itt);
    if (this.abortedItts.length > ABORTED_ITT_MEMORY) this.abortedItts.shift();
  }

  private abortTask(task: Task): void {
    task.aborted = true;
    this.rememberAborted(task.itt);
    // A task still gathering data is gone now; one in the logical unit is released when it returns.
    if (!task.executing) this.releaseTask(task);
  }

  private onNopOut(pdu: Pdu): void {
    const bhs = pdu.bhs;
    if (!this.acceptCmdSN(bhs)) return;
    const itt = ittOf(bhs);
    if (itt === RESERVED_TAG) return; // an answer to a NOP-In, or a ping that wants no reply
    const res = newBhs(Opcode.NopIn);
    res[1] = 0x80;
    bhs.copy(res, 8, 8, 16);
    res.writeUInt32BE(itt, 16);
    res.writeUInt32BE(RESERVED_TAG, 20);
    this.stampSequence(res, true);
    const echo = pdu.data.length > this.params.maxXmitDataSegmentLength
      ? pdu.data.subarray(0, this.params.maxXmitDataSegmentLength)
      : pdu.data;
    this.send(res, echo);
  }

  /** Pings a silent initiator with a NOP-In that asks for an answer; ends the session if none comes. */
  private checkAlive(): void {
    if (this.state !== 'ffp') return;
    const now = Date.now();
    if (this.pingSentAt) {
      if (now - this.pingSentAt >= this.limits.nopInTimeoutMs) this.terminate('no answer to NOP-In');
      return;
    }
    if (now - this.lastReceived < this.limits.nopInIntervalMs) return;
    const ping = newBhs(Opcode.NopIn);
    ping[1] = 0x80;
    ping.writeUInt32BE(RESERVED_TAG, 16);
    ping.writeUInt32BE(this.allocateTtt(), 20);
    // ITT 0xffffffff: StatSN is not advanced by this PDU (RFC 7143 11.19.1).
    this.stampSequence(ping, false);
    this.send(ping, EMPTY);
    this.pingSentAt = now;
  }

  private onTaskManagement(pdu: Pdu): void {
    const bhs = pdu.bhs;
    if (!this.acceptCmdSN(bhs)) return;
    const fn = bhs[1]! & 0x7f;
    let response: TmfResponse;
    let coldReset = false;
    const target = this.target;
    if (!target || !this.nexus) {
      response = TmfResponse.Rejected;
    } else {
      const lun = decodeLun(bhs);
      const lu = target.luns.get(lun);
      const resetLu = (kind: ResetKind): void => lu!.reset(kind, this.nexus!);
      switch (fn) {
        case TmfFunction.AbortTask: {
          const task = this.tasks.get(bhs.readUInt32BE(20));
          if (task) {
            this.abortTask(task);
            response = TmfResponse.Complete;
          } else {
            // RFC 7143 11.5.1: a referenced command not received yet but inside the window and
            // older than this request is taken as received (and so ignored if it turns up).
            // One already answered no longer exists.
            const refCmdSN = bhs.readUInt32BE(32);
            const tmfCmdSN = bhs.readUInt32BE(24);
            if (
              snInWindow(refCmdSN, this.expCmdSN, this.maxCmdSN) &&
              !this.aheadCmdSNs.has(refCmdSN) &&
              snLessThan(refCmdSN, tmfCmdSN)
            ) {
              this.markCmdSNReceived(refCmdSN);
              response = TmfResponse.Complete;
            } else {
              response = TmfResponse.TaskDoesNotExist;
            }
          }
          break;
        }
        case TmfFunction.AbortTaskSet:
        case TmfFunction.ClearTaskSet:
          if (!lu) {
            response = TmfResponse.LunDoesNotExist;
            break;
          }
          this.abortTasks(lun);
          resetLu(fn === TmfFunction.AbortTaskSet ? 'abort-task-set' : 'clear-task-set');
          response = TmfResponse.Complete;
          break;
        case TmfFunction.LogicalUnitReset:
          if (!lu) {
            response = TmfResponse.LunDoesNotExist;
            break;
          }
          this.abortTasks(lun);
          this.host.resetTasks(target, lun, this);
          resetLu('lun-reset');
          response = TmfResponse.Complete;
          break;
        case TmfFunction.TargetWarmReset:
        case TmfFunction.TargetColdReset: {
          const cold = fn === TmfFunction.TargetColdReset;
          this.abortTasks(null);
          this.host.resetTasks(target, null, this);
          for (const unit of target.luns.values()) unit.reset(cold ? 'target-cold-reset' : 'target-warm-reset', this.nexus);
          response = TmfResponse.Complete;
          coldReset = cold;
          break;
        }
        case TmfFunction.TaskReassign:
          response = TmfResponse.ReassignmentNotSupported;
          break;
        case TmfFunction.ClearAca:
          response = TmfResponse.NotSupported;
          break;
        default:
          response = TmfResponse.Rejected;
      }
    }
    const res = newBhs(Opcode.TaskMgmtResponse);
    res[1] = 0x80;
    res[2] = response;
    res.writeUInt32BE(ittOf(bhs), 16);
    this.stampSequence(res, true);
    this.send(res, EMPTY);
    // A cold reset ends the session after its response (RFC 7143 11.5.1).
    if (coldReset) this.closeAfterFlush('target cold reset');
  }

  private onText(pdu: Pdu): void {
    const bhs = pdu.bhs;
    if (!this.acceptCmdSN(bhs)) return;
    const itt = ittOf(bhs);
    const ttt = bhs.readUInt32BE(20);
    const cont = (bhs[1]! & 0x40) !== 0;
    if (ttt !== RESERVED_TAG) {
      if (this.textOut && this.textOut.ttt === ttt) {
        const rest = this.textOut.rest;
        this.textOut = undefined;
        this.sendTextResponse(itt, rest);
        return;
      }
      if (!this.textIn.length) return this.sendReject(RejectReason.InvalidPduField, bhs);
    }
    this.textOut = undefined;
    this.textInBytes += pdu.data.length;
    if (this.textInBytes > MAX_TEXT_BYTES) throw new ProtocolError('text request too long');
    this.textIn.push(pdu.data);
    if (cont) {
      // The initiator has more to say: acknowledge with an empty response that carries a TTT.
      const res = newBhs(Opcode.TextResponse);
      res.writeUInt32BE(itt, 16);
      res.writeUInt32BE(this.allocateTtt(), 20);
      this.stampSequence(res, true);
      this.send(res, EMPTY);
      return;
    }
    const all = Buffer.concat(this.textIn);
    this.textIn = [];
    this.textInBytes = 0;
    let pairs: TextPairs;
    try {
      pairs = parseText(all);
    } catch (err) {
      if (err instanceof TextFormatError) throw new ProtocolError(err.message);
      throw err;
    }
    const reply: TextPairs = [];
    for (const [key, value] of pairs) {
      if (key === 'SendTargets') {
        if (this.sessionType === 'Normal' && value === 'All') reply.push([key, 'Reject']);
        else reply.push(...this.host.sendTargets(this.initiatorName, value, this.target?.iqn));
      } else {
        reply.push([key, 'NotUnderstood']);
      }
    }
    this.sendTextResponse(itt, encodeText(reply));
  }

  /** Sends a text answer, split with the C bit when it exceeds what the initiator accepts. */
  private sendTextResponse(itt: number, text: Buffer): void {
    const max = this.params.maxXmitDataSegmentLength;
    const res = newBhs(Opcode.TextResponse);
    res.writeUInt32BE(itt, 16);
    let chunk = text;
    if (text.length > max) {
      chunk = text.subarray(0, max);
      const ttt = this.allocateTtt();
      this.textOut = { ttt, rest: text.subarray(max) };
      res[1] = 0x40;
      res.writeUInt32BE(ttt, 20);
    } else {
      res[1] = 0x80;
      res.writeUInt32BE(RESERVED_TAG, 20);
    }
    this.stampSequence(res, true);
    this.send(res, chunk);
  }

  private onLogout(pdu: Pdu): void {
    const bhs = pdu.bhs;
    if (!this.acceptCmdSN(bhs)) return;
    const reason = bhs[1]! & 0x7f;
    let response = 0;
    if (reason === 2) response = 2; // connection recovery needs ErrorRecoveryLevel 2
    else if (reason === 1 && bhs.readUInt16BE(20) !== this.cid) response = 1;
    else if (reason > 2) return this.sendReject(RejectReason.InvalidPduField, bhs);
    const res = newBhs(Opcode.LogoutResponse);
    res[1] = 0x80;
    res[2] = response;
    res.writeUInt32BE(ittOf(bhs), 16);
    this.stampSequence(res, true);
    this.send(res, EMPTY);
    if (response === 0) this.closeAfterFlush('logout');
  }

  private sendReject(reason: RejectReason, rejected: Buffer): void {
    const bhs = newBhs(Opcode.Reject);
    bhs[1] = 0x80;
    bhs[2] = reason;
    bhs.writeUInt32BE(RESERVED_TAG, 16);
    this.stampSequence(bhs, true);
    this.send(bhs, Buffer.from(rejected.subarray(0, BHS_LENGTH)));
  }

  // ---- output -------------------------------------------------------------

  /**
   * Queues a PDU. Writes are corked and released together, so that the replies to one
   * batch of received commands, or the completions of one event-loop turn, leave in one
   * vectored write.
   */
  private send(bhs: Buffer, data: Buffer): void {
    if (this.state === 'closed') return;
    const parts = encodePdu({ bhs, ahs: EMPTY, data }, this.digests);
    if (!this.corked) {
      this.corked = true;
      this.socket.cork();
      if (!this.handlingInput) setImmediate(this.flush);
    }
    for (const part of parts) this.socket.write(part);
  }

  private readonly flush = (): void => {
    if (!this.corked) return;
    this.corked = false;
    this.socket.uncork();
    if (this.socket.writableLength > this.limits.sendHighWater && !this.readPaused) {
      this.readPaused = true;
      this.socket.pause();
    }
  };

  private maybeResume(): void {
    if (this.readPaused && this.socket.writableLength <= this.limits.sendHighWater) {
      this.readPaused = false;
      this.socket.resume();
    }
  }

  private closeAfterFlush(why: string): void {
    if (this.state === 'closed' || this.state === 'closing') return;
    this.host.logger.debug({ conn: this.id, why }, 'ending iSCSI connection');
    this.releaseSession();
    this.state = 'closing';
    if (this.corked) {
      this.corked = false;
      this.socket.uncork();
    }
    this.socket.end();
    // A peer that never reads must not hold the socket open.
    setTimeout(() => this.socket.destroy(), 5000).unref();
  }

  /** Drops tasks and tells the logical units the nexus is gone; runs once. */
  private releaseSession(): void {
    clearTimeout(this.loginTimer);
    clearInterval(this.pingTimer);
    for (const task of this.tasks.values()) task.aborted = true;
    if (this.state === 'ffp' || this.state === 'login') this.host.connectionClosed(this);
  }

  private teardown(): void {
    if (this.state === 'closed') return;
    if (this.state !== 'closing') this.releaseSession();
    this.state = 'closed';
  }
}

/** A PDU's data segment as pieces, however the framer delivered it. */
function dataPieces(pdu: Pdu): { pieces: Buffer[]; length: number } {
  if (pdu.parts) return { pieces: pdu.parts, length: totalLength(pdu.parts) };
  return { pieces: pdu.data.length ? [pdu.data] : [], length: pdu.data.length };
}

/** The LUN from bytes 8..15: peripheral or flat addressing, single level; anything else matches no LUN. */
export function decodeLun(bhs: Buffer): number {
  const method = bhs[8]! >> 6;
  for (let i = 10; i < 16; i++) if (bhs[i] !== 0) return 0xffffffff;
  if (method > 1) return 0xffffffff;
  return ((bhs[8]! & 0x3f) << 8) | bhs[9]!;
}
