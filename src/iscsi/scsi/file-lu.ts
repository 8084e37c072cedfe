// A SCSI direct-access block device (SBC-3/SPC-4) over one sparse file: the logical
// unit behind every exported volume. All I/O is positional on one file descriptor;
// reads never wait for each other, and writes wait only for earlier commands that
// touch an overlapping block range (see RangeLock).

import fs, { closeSync, constants as fsConstants, fstat, fstatSync, openSync, read, readSync, writev, writevSync } from 'node:fs';
import { performance } from 'node:perf_hooks';
import { promisify } from 'node:util';

import { type DataOut, sliceParts } from './data-out.js';
import { FileHoles, type FileIdentity } from './holes.js';
import { type LuIdentity, standardInquiry, vpdPage, type PortIdentity } from './inquiry.js';
import { DEFAULT_MODE, type ModeState, ModePage, PAGE_ORDER, PageControl, modePage, selectPages } from './mode-pages.js';
import { MaintenanceIn, Op, SaIn16 } from './opcodes.js';
import { RangeLock } from './range-lock.js';
import { reportLuns } from './report-luns.js';
import { type AccessClass, Reservations } from './reservations.js';
import {
  ASC,
  type Asc,
  GOOD,
  SenseKey,
  checkCondition,
  fixedSense,
  good,
  invalidField,
  invalidOpcode,
  invalidParameter,
  lbaOutOfRange,
  parameterListLengthError,
  reservationConflict,
  writeProtected,
} from './sense.js';
import type { ItNexus, LogicalUnit, ResetKind, ScsiCommand, ScsiResponse } from './types.js';

export interface FileLogicalUnitOptions {
  path: string;
  /** The whole logical unit is read-only (every nexus); a read-only nexus is said per command. */
  readOnly?: boolean;
  serial: string;
  /** 32 hex digits, used for the NAA and T10 designators of VPD page 0x83. */
  deviceId: string;
  /** Advertise and honour UNMAP / WRITE SAME with UNMAP / GET LBA STATUS. Default true. */
  thinProvisioning?: boolean;
  /** Logical block size in bytes: 512 (default) or 4096. */
  blockSize?: number;
  /**
   * Deallocate with real holes (default true). Off, UNMAP writes zeroes and GET LBA
   * STATUS reports every block as mapped: for file systems where holes are unwanted.
   */
  punchHoles?: boolean;
}

const PHYSICAL_BLOCK = 4096;
/**
 * Largest single transfer; it bounds the memory one command can pin. 32 MiB keeps
 * 65536-block WRITE(16)s of 512-byte blocks legal, which initiators and libiscsi's
 * suite send without consulting the Block Limits page.
 */
const MAX_TRANSFER_BYTES = 32 << 20;
const MAX_COMPARE_AND_WRITE_BLOCKS = 255;
const MAX_UNMAP_DESCRIPTORS = 256;
/**
 * Larger WRITE SAME / UNMAP ranges are split by the initiator (VPD B0); it bounds the
 * zero-fill fallback, and at most 2^20 blocks is what initiators consider sane.
 */
const MAX_UNMAP_BYTES = 512 << 20;
const ZERO_CHUNK_BYTES = 1 << 20;
/**
 * Reads and writes up to this size are done on the main thread. The file is opened
 * without O_DIRECT, so when the page cache serves them they are memory copies, cheaper
 * than the hand-off to libuv's thread pool and back. The bound caps how long a transfer
 * that misses the cache can hold the event loop.
 */
const SYNC_IO_MAX_BYTES = 64 << 10;
/**
 * Synchronous transfers slower than this went to the disk (a cache miss, or writeback
 * throttling). After SYNC_IO_SLOW_STREAK of them in a row the unit uses the thread pool
 * for SYNC_IO_BACKOFF_MS, so a cold or congested volume holds the event loop for at most
 * that many transfers per period. One slow transfer alone proves little: at load 6 on two
 * cores, 26 of 149,000 cached 4 KiB transfers took longer, preempted by the scheduler,
 * and each sent the next 100 ms of commands through the pool for nothing.
 */
const SYNC_IO_SLOW_MS = 0.5;
const SYNC_IO_SLOW_STREAK = 2;
const SYNC_IO_BACKOFF_MS = 100;
/**
 * Small read buffers are cut from a shared slab: a fresh ArrayBuffer per 4 KiB read
 * cost a quarter of the read's time in the unit. A slab is freed once the last read cut
 * from it has been sent, which is soon, so it pins little memory.
 */
const READ_SLAB_BYTES = 256 << 10;
const MAX_PENDING_UNIT_ATTENTIONS = 8;
const RELATIVE_TARGET_PORT = 1;

const SOFTWARE_WRITE_PROTECTED: Asc = [0x27, 0x02];
const SPACE_ALLOCATION_FAILED_WRITE_PROTECT: Asc = [0x27, 0x07];

type Handler = (cmd: ScsiCommand) => Promise<ScsiResponse> | ScsiResponse;

interface CommandSpec {
  op: number;
  /** Service action, for the opcodes that carry one in byte 1. */
  sa?: number;
  /** CDB usage data for REPORT SUPPORTED OPERATION CODES; its length is the CDB length. */
  usage: number[];
  access: AccessClass;
  /** Changes the medium: refused on a write-protected nexus or unit. */
  writes: boolean;
  /** Reported even while a unit attention is pending (SPC-4 5.14: INQUIRY, REPORT LUNS, REQUEST SENSE). */
  bypassesUnitAttention?: boolean;
  run: Handler;
}

interface Range {
  lba: number;
  count: number;
}

export async function openFileLogicalUnit(opts: FileLogicalUnitOptions): Promise<FileLogicalUnit> {
  const blockSize = opts.blockSize ?? 512;
  if (blockSize !== 512 && blockSize !== 4096) throw new RangeError(`unsupported block size ${blockSize}`);
  if (!/^[0-9a-fA-F]{32}$/.test(opts.deviceId)) throw new RangeError('deviceId must be 32 hex digits');
  const readOnly = opts.readOnly ?? false;
  // Opening and sizing a local file takes microseconds on this thread; through the thread
  // pool each step is a round trip, and the attach path opens a unit on every export.
  const fd = openSync(opts.path, readOnly ? fsConstants.O_RDONLY : fsConstants.O_RDWR);
  try {
    const { size, dev, ino } = fstatSync(fd, { bigint: true });
    return new FileLogicalUnit(fd, opts, blockSize, Number(size), { dev, ino });
  } catch (e) {
    closeSync(fd);
    throw e;
  }
}

const readAt = promisify(read);
const writevAt = promisify(writev);
/** fs.fdatasync is looked up at each call, so that a test can count the syncs group commit saves. */
const datasync = (fd: number): Promise<void> =>
  new Promise((resolve, reject) => fs.fdatasync(fd, (err) => (err ? reject(err) : resolve())));
const statOf = promisify(fstat);

export class FileLogicalUnit implements LogicalUnit {
  readonly path: string;
  readonly blockSize: number;
  readonly readOnly: boolean;
  readonly thin: boolean;
  private blocks: number;
  private mode: ModeState = { ...DEFAULT_MODE };
  /** Pending unit attentions per nexus id, oldest first. A nexus is known once it has sent a command. */
  private readonly unitAttentions = new Map<string, Asc[]>();
  private readonly reservations: Reservations;
  private readonly writeOrder = new RangeLock();
  private readonly holes: FileHoles | null;
  private readonly identity: LuIdentity;
  private readonly commands = new Map<number, CommandSpec>();
  private readonly inFlight = new Set<Promise<ScsiResponse>>();
  private closed = false;
  private syncing: Promise<void> | null = null;
  private nextSync: Promise<void> | null = null;
  /** performance.now() before which small transfers go through the thread pool (see SYNC_IO_SLOW_MS). */
  private poolUntil = 0;
  private slowStreak = 0;

  constructor(
    private readonly fd: number,
    opts: FileLogicalUnitOptions,
    blockSize: number,
    size: number,
    file: FileIdentity,
  ) {
    this.path = opts.path;
    this.blockSize = blockSize;
    this.readOnly = opts.readOnly ?? false;
    this.thin = opts.thinProvisioning ?? true;
    this.blocks = Math.floor(size / blockSize);
    this.holes = this.thin && !this.readOnly && opts.punchHoles !== false ? new FileHoles(opts.path, file) : null;
    this.reservations = new Reservations((nexusId, asc) => this.queueUnitAttention(nexusId, asc));
    this.identity = {
      serial: opts.serial,
      deviceId: opts.deviceId.toLowerCase(),
      blockSize,
      physicalExponent: Math.log2(Math.max(1, PHYSICAL_BLOCK / blockSize)),
      thin: this.thin,
      maxTransferBlocks: MAX_TRANSFER_BYTES / blockSize,
      maxCompareAndWriteBlocks: MAX_COMPARE_AND_WRITE_BLOCKS,
      maxUnmapBlocks: MAX_UNMAP_BYTES / blockSize,
      maxUnmapDescriptors: MAX_UNMAP_DESCRIPTORS,
      maxWriteSameBlocks: MAX_UNMAP_BYTES / blockSize,
    };
    for (const spec of this.commandTable()) this.commands.set(commandKey(spec.op, spec.sa), spec);
  }

  /** Capacity in logical blocks. */
  get capacity(): number {
    return this.blocks;
  }

  execute(cmd: ScsiCommand): ScsiResponse | Promise<ScsiResponse> {
    if (this.closed) return checkCondition(SenseKey.NOT_READY, [0x04, 0x00]);
    let result: ScsiResponse | Promise<ScsiResponse>;
    try {
      result = this.run(cmd);
    } catch (e) {
      return ioFailure(e, cmd.cdb[0]);
    }
    // A command answered synchronously has nothing left for close() to wait for.
    if (!(result instanceof Promise)) return result;
    const running = result.catch((e: unknown) => ioFailure(e, cmd.cdb[0]));
    this.inFlight.add(running);
    return running.finally(() => this.inFlight.delete(running));
  }

  reset(kind: ResetKind, _nexus: ItNexus): void {
    // Commands run to completion as they arrive, so aborting the task set leaves nothing to clear here.
    if (kind === 'abort-task-set' || kind === 'clear-task-set') return;
    // Mode settings are kept: they are what an initiator chose for safety (WCE off, SWP
    // on), and quietly restoring the defaults on a reset would undo that choice.
    this.reservations.reset();
    const asc = kind === 'lun-reset' ? ASC.BUS_DEVICE_RESET : ASC.POWER_ON_RESET;
    for (const id of this.unitAttentions.keys()) this.queueUnitAttention(id, asc);
  }

  nexusLost(nexus: ItNexus): void {
    this.reservations.nexusLost(nexus.id);
    this.unitAttentions.delete(nexus.id);
  }

  async resized(): Promise<void> {
    const { size } = await statOf(this.fd);
    const blocks = Math.floor(size / this.blockSize);
    if (blocks === this.blocks) return;
    this.blocks = blocks;
    for (const id of this.unitAttentions.keys()) this.queueUnitAttention(id, ASC.CAPACITY_DATA_HAS_CHANGED);
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await Promise.allSettled([...this.inFlight]);
    await this.holes?.close();
    closeSync(this.fd);
  }

  // ---- command flow -------------------------------------------------------------

  private run(cmd: ScsiCommand): ScsiResponse | Promise<ScsiResponse> {
    const cdb = cmd.cdb;
    if (cdb.length < 6) return invalidOpcode();
    const nexusId = cmd.nexus.id;
    let pending = this.unitAttentions.get(nexusId);
    if (!pending) this.unitAttentions.set(nexusId, (pending = []));
    const spec = this.lookup(cdb);
    if (pending.length > 0 && !spec?.bypassesUnitAttention) {
      return checkCondition(SenseKey.UNIT_ATTENTION, pending.shift()!);
    }
    if (!spec) return hasServiceAction(cdb[0]) ? invalidField(1, 4) : invalidOpcode();
    if (cdb.length < spec.usage.length) return invalidOpcode();
    if (this.reservations.conflicts(nexusId, spec.access)) return reservationConflict();
    if (spec.writes) {
      if (cmd.readOnly || this.readOnly) return writeProtected();
      if (this.mode.swp) return checkCondition(SenseKey.DATA_PROTECT, SOFTWARE_WRITE_PROTECTED);
    }
    return spec.run(cmd);
  }

  private lookup(cdb: Buffer): CommandSpec | undefined {
    const op = cdb[0];
    return this.commands.get(hasServiceAction(op) ? commandKey(op, cdb[1] & 0x1f) : commandKey(op));
  }

  private queueUnitAttention(nexusId: string, asc: Asc): void {
    let queue = this.unitAttentions.get(nexusId);
    if (!queue) this.unitAttentions.set(nexusId, (queue = []));
    if (queue.some((q) => q[0] === asc[0] && q[1] === asc[1])) return;
    if (queue.length >= MAX_PENDING_UNIT_ATTENTIONS) queue.shift();
    queue.push(asc);
  }

  private port(nexus: ItNexus): PortIdentity {
    const port: PortIdentity = { relativeTargetPort: RELATIVE_TARGET_PORT };
    if (nexus.targetPortName) port.targetPortName = nexus.targetPortName;
    return port;
  }

  // ---- block I/O ---------------------------------------------------------------

  /** LBA and block count of a read/write-type CDB, or the error to return. */
  private range(cdb: Buffer, lbaAt: number, lbaBytes: 4 | 8, countAt: number, countBytes: 1 | 2 | 4): Range | ScsiResponse {
    // Doubles are exact below 2^53, and any capacity a file can have is far below that,
    // so an LBA whose high word is 2^21 or more is out of range without further ado.
    const high = lbaBytes === 8 ? cdb.readUInt32BE(lbaAt) : 0;
    if (high >= 0x200000) return lbaOutOfRange();
    const lba = high * 0x100000000 + cdb.readUInt32BE(lbaBytes === 8 ? lbaAt + 4 : lbaAt);
    const count = countBytes === 4 ? cdb.readUInt32BE(countAt) : countBytes === 2 ? cdb.readUInt16BE(countAt) : cdb[countAt];
    if (lba + count > this.blocks) return lbaOutOfRange();
    return { lba, count };
  }

  /** Whether a transfer of this size may run on the main thread now (see SYNC_IO_MAX_BYTES). */
  private syncIo(length: number): boolean {
    return length <= SYNC_IO_MAX_BYTES && (this.poolUntil === 0 || performance.now() >= this.poolUntil);
  }

  private timedSync(started: number): void {
    const now = performance.now();
    this.poolUntil = 0;
    if (now - started <= SYNC_IO_SLOW_MS) {
      this.slowStreak = 0;
    } else if (++this.slowStreak >= SYNC_IO_SLOW_STREAK) {
      this.slowStreak = 0;
      this.poolUntil = now + SYNC_IO_BACKOFF_MS;
    }
  }

  private readBlocksSync(lba: number, count: number): Buffer {
    const length = count * this.blockSize;
    const buf = smallReadBuffer(length);
    const position = lba * this.blockSize;
    const started = performance.now();
    let done = 0;
    while (done < length) {
      const n = readSync(this.fd, buf, done, length - done, position + done);
      if (n === 0) {
        buf.fill(0, done);
        break;
      }
      done += n;
    }
    this.timedSync(started);
    return buf;
  }

  private writeBlocksSync(lba: number, data: DataOut): void {
    const position = lba * this.blockSize;
    const started = performance.now();
    let parts = data.parts;
    let done = 0;
    for (;;) {
      done += writevSync(this.fd, parts as Buffer[], position + done);
      if (done >= data.length) break;
      parts = sliceParts(data.parts, done, data.length);
    }
    this.timedSync(started);
  }

  private async readBlocks(lba: number, count: number): Promise<Buffer> {
    const length = count * this.blockSize;
    const buf = Buffer.allocUnsafe(length);
    const position = lba * this.blockSize;
    let done = 0;
    while (done < length) {
      const { bytesRead } = await readAt(this.fd, buf, done, length - done, position + done);
      if (bytesRead === 0) {
        // Past the end of a file that shrank under us: a sparse tail reads as zeroes.
        buf.fill(0, done);
        break;
      }
      done += bytesRead;
    }
    return buf;
  }

  private async writeBlocks(lba: number, data: Buffer | DataOut): Promise<void> {
    const position = lba * this.blockSize;
    const all = Buffer.isBuffer(data) ? [data] : data.parts;
    let parts = all;
    let done = 0;
    for (;;) {
      done += (await writevAt(this.fd, parts as Buffer[], position + done)).bytesWritten;
      if (done >= data.length) return;
      parts = sliceParts(all, done, data.length);
    }
  }

  /** Writes under the range lock; durable before returning when FUA is set or the write cache is off. */
  private async orderedWrite(lba: number, data: DataOut, fua: boolean): Promise<void> {
    const unlock = await this.writeOrder.acquire(lba, lba + Math.ceil(data.length / this.blockSize));
    try {
      await this.writeBlocks(lba, data);
    } finally {
      unlock();
    }
    if (fua || !this.mode.wce) await this.flush();
  }

  /**
   * fdatasync with group commit: callers that arrive while a sync runs share the one
   * after it (the running one may have started before their write finished), so a
   * queue of FUA writes costs two syncs, not one per write.
   */
  private flush(): Promise<void> {
    if (!this.syncing) {
      const running = datasync(this.fd).finally(() => {
        if (this.syncing === running) this.syncing = null;
      });
      this.syncing = running;
      return running;
    }
    this.nextSync ??= this.syncing
      .catch(() => undefined)
      .then(() => {
        this.nextSync = null;
        return this.flush();
      });
    return this.nextSync;
  }

  private tooLong(count: number, byte: number): ScsiResponse | null {
    return count > this.identity.maxTransferBlocks ? invalidField(byte) : null;
  }

  private read(cmd: ScsiCommand, r: Range | ScsiResponse, countByte: number): ScsiResponse | Promise<ScsiResponse> {
    if (cmd.cdb[0] !== Op.READ_6 && cmd.cdb[1] >> 5) return invalidField(1, 7); // RDPROTECT: no protection information
    if (!('lba' in r)) return r;
    if (r.count === 0) return GOOD;
    const long = this.tooLong(r.count, countByte);
    if (long) return long;
    if (this.syncIo(r.count * this.blockSize)) return good(this.readBlocksSync(r.lba, r.count));
    return this.readBlocks(r.lba, r.count).then(good);
  }

  /**
   * The write data of a WRITE-type command. When the initiator's expected transfer length
   * is shorter than the CDB's, the command is processed normally except that only the
   * bytes the initiator sent are written (FCP-4 9.4.2 a; libiscsi's residual tests check
   * exactly this), and the transport reports the overflow residual.
   */
  private writeData(cmd: ScsiCommand, blocks: number): DataOut | undefined {
    const length = Math.min(blocks * this.blockSize, cmd.expectedLength, cmd.dataOut?.length ?? 0);
    return length > 0 ? cmd.dataOut!.head(length) : undefined;
  }

  /** Exactly `blocks` blocks of Data-Out for commands that compare against it, or the error to return. */
  private compareData(cmd: ScsiCommand, blocks: number): Buffer | ScsiResponse {
    const need = blocks * this.blockSize;
    const data = cmd.dataOut;
    if (!data || data.length < need || cmd.expectedLength < need) {
      return checkCondition(SenseKey.ILLEGAL_REQUEST, ASC.INVALID_FIELD_IN_INFORMATION_UNIT);
    }
    return data.head(need).flat();
  }

  private write(cmd: ScsiCommand, r: Range | ScsiResponse, countByte: number, verify = false): ScsiResponse | Promise<ScsiResponse> {
    const cdb = cmd.cdb;
    const six = cdb[0] === Op.WRITE_6;
    if (!six && cdb[1] >> 5) return invalidField(1, 7); // WRPROTECT
    if (!('lba' in r)) return r;
    const done: ScsiResponse = { status: GOOD.status, transferLength: r.count * this.blockSize };
    if (r.count === 0) return done;
    const long = this.tooLong(r.count, countByte);
    if (long) return long;
    const data = this.writeData(cmd, r.count);
    if (!data) return done;
    // WRITE AND VERIFY asks for the data to be on the medium before it is checked.
    const fua = verify || (!six && (cdb[1] & 0x08) !== 0);
    const end = r.lba + Math.ceil(data.length / this.blockSize);
    // A write that finishes before returning cannot be overtaken, so it needs the range
    // lock only to wait for an earlier overlapping write that is still running.
    if (this.syncIo(data.length) && !this.writeOrder.overlaps(r.lba, end)) {
      this.writeBlocksSync(r.lba, data);
      return fua || !this.mode.wce ? this.flush().then(() => done) : done;
    }
    return this.orderedWrite(r.lba, data, fua).then(() => done);
  }

  private async verify(cmd: ScsiCommand, r: Range | ScsiResponse, countByte: number): Promise<ScsiResponse> {
    const cdb = cmd.cdb;
    if (cdb[1] >> 5) return invalidField(1, 7); // VRPROTECT
    const bytchk = (cdb[1] >> 1) & 0x03;
    if (bytchk === 2) return invalidField(1, 2);
    if (!('lba' in r)) return r;
    if (r.count === 0) return GOOD;
    const long = this.tooLong(r.count, countByte);
    if (long) return long;
    if (bytchk === 0) return GOOD; // medium verification: a readable file has nothing to report
    const expected = this.compareData(cmd, bytchk === 3 ? 1 : r.count);
    if (!Buffer.isBuffer(expected)) return expected;
    const actual = await this.readBlocks(r.lba, r.count);
    const bs = this.blockSize;
    for (let block = 0; block < r.count; block++) {
      const want = bytchk === 3 ? expected : expected.subarray(block * bs, (block + 1) * bs);
      const got = actual.subarray(block * bs, (block + 1) * bs);
      if (!got.equals(want)) {
        return checkCondition(SenseKey.MISCOMPARE, ASC.MISCOMPARE_DURING_VERIFY, {
          information: block * bs + firstDifference(got, want),
        });
      }
    }
    return GOOD;
  }

  private async compareAndWrite(cmd: ScsiCommand): Promise<ScsiResponse> {
    const cdb = cmd.cdb;
    if (cdb[1] >> 5) return invalidField(1, 7);
    const r = this.range(cdb, 2, 8, 13, 1);
    if (!('lba' in r)) return r;
    if (r.count > MAX_COMPARE_AND_WRITE_BLOCKS) return invalidField(13);
    const half = r.count * this.blockSize;
    const data = cmd.dataOut?.flat();
    // Data-Out must be exactly the verify and write instances; anything else (as when a
    // 256-block request wraps the one-byte field to 0) means the CDB cannot be right.
    if ((data?.length ?? 0) !== 2 * half || cmd.expectedLength !== 2 * half) return invalidField(13);
    if (r.count === 0 || !data) return GOOD;
    const unlock = await this.writeOrder.acquire(r.lba, r.lba + r.count);
    try {
      const current = await this.readBlocks(r.lba, r.count);
      const expected = data.subarray(0, half);
      if (!current.equals(expected)) {
        return checkCondition(SenseKey.MISCOMPARE, ASC.MISCOMPARE_DURING_VERIFY, {
          information: firstDifference(current, expected),
        });
      }
      await this.writeBlocks(r.lba, data.subarray(half));
    } finally {
      unlock();
    }
    if (cdb[1] & 0x08 || !this.mode.wce) await this.flush();
    return GOOD;
  }

  private async orWrite(cmd: ScsiCommand): Promise<ScsiResponse> {
    const cdb = cmd.cdb;
    if (cdb[1] >> 5) return invalidField(1, 7);
    const r = this.range(cdb, 2, 8, 10, 4);
    if (!('lba' in r)) return r;
    if (r.count === 0) return GOOD;
    const long = this.tooLong(r.count, 10);
    if (long) return long;
    const data = this.compareData(cmd, r.count);
    if (!Buffer.isBuffer(data)) return data;
    const unlock = await this.writeOrder.acquire(r.lba, r.lba + r.count);
    try {
      const merged = await this.readBlocks(r.lba, r.count);
      for (let i = 0; i < merged.length; i++) merged[i] |= data[i];
      await this.writeBlocks(r.lba, merged);
    } finally {
      unlock();
    }
    if (cdb[1] & 0x08 || !this.mode.wce) await this.flush();
    return GOOD;
  }

  private async synchronizeCache(r: Range | ScsiResponse): Promise<ScsiResponse> {
    if (!('lba' in r)) return r;
    await this.flush();
    return GOOD;
  }

  private prefetch(r: Range | ScsiResponse): ScsiResponse {
    // The page cache decides what stays resident; there is nothing to promise beyond a valid range.
    return 'lba' in r ? GOOD : r;
  }

  // ---- thin provisioning --------------------------------------------------------

  /** Deallocates blocks: a hole where the file system can punch one, zeroes otherwise (LBPRZ holds either way). */
  private async deallocate(lba: number, count: number): Promise<void> {
    const unlock = await this.writeOrder.acquire(lba, lba + count);
    try {
      const offset = lba * this.blockSize;
      const length = count * this.blockSize;
      if (this.holes && (await this.holes.punch(offset, length))) return;
      await this.fillBlocks(lba, count, Buffer.alloc(this.blockSize));
    } finally {
      unlock();
    }
  }

  private async fillBlocks(lba: number, count: number, block: Buffer): Promise<void> {
    const perChunk = Math.max(1, Math.floor(ZERO_CHUNK_BYTES / this.blockSize));
    const chunk = Buffer.allocUnsafe(Math.min(count, perChunk) * this.blockSize);
    for (let off = 0; off < chunk.length; off += block.length) block.copy(chunk, off);
    for (let done = 0; done < count; ) {
      const n = Math.min(perChunk, count - done);
      await this.writeBlocks(lba + done, n * this.blockSize === chunk.length ? chunk : chunk.subarray(0, n * this.blockSize));
      done += n;
    }
  }

  private async writeSame(cmd: ScsiCommand, sixteen: boolean): Promise<ScsiResponse> {
    const cdb = cmd.cdb;
    if (cdb[1] >> 5) return invalidField(1, 7); // WRPROTECT
    const unmap = (cdb[1] & 0x08) !== 0;
    const anchor = (cdb[1] & 0x10) !== 0;
    const ndob = sixteen && (cdb[1] & 0x01) !== 0;
    if (anchor) return invalidField(1, 4);
    if (cdb[1] & 0x06) return invalidField(1, 1); // PBDATA / LBDATA are obsolete
    if (unmap && !this.thin) return invalidField(1, 3);
    if (ndob && !unmap) return invalidField(1, 0);
    const r = sixteen ? this.range(cdb, 2, 8, 10, 4) : this.range(cdb, 2, 4, 7, 2);
    if (!('lba' in r)) return r;
    // WSNZ is 0: zero blocks means "through the last LBA".
    const count = r.count === 0 ? this.blocks - r.lba : r.count;
    if (count > this.identity.maxWriteSameBlocks) return invalidField(sixteen ? 10 : 7);
    if (count === 0) return GOOD;
    let block: Buffer;
    if (ndob) {
      block = Buffer.alloc(this.blockSize);
    } else {
      const data = cmd.dataOut?.flat();
      if (!data || data.length !== this.blockSize || cmd.expectedLength !== this.blockSize) return invalidField(sixteen ? 10 : 7);
      block = data;
    }
    // As tgtd and LIO do, UNMAP deallocates whatever the pattern; LBPRZ tells the
    // initiator those blocks now read as zeroes.
    if (unmap) {
      await this.deallocate(r.lba, count);
    } else {
      const unlock = await this.writeOrder.acquire(r.lba, r.lba + count);
      try {
        await this.fillBlocks(r.lba, count, block);
      } finally {
        unlock();
      }
    }
    if (!this.mode.wce) await this.flush();
    return GOOD;
  }

  private async unmap(cmd: ScsiCommand): Promise<ScsiResponse> {
    const cdb = cmd.cdb;
    if (cdb[1] & 0x01) return invalidField(1, 0); // ANCHOR
    const listLength = cdb.readUInt16BE(7);
    if (listLength === 0) return GOOD;
    const params = cmd.dataOut?.flat();
    if (listLength < 8 || !params || params.length < listLength) return parameterListLengthError();
    const descriptorBytes = params.readUInt16BE(2);
    if (descriptorBytes % 16 !== 0 || 8 + descriptorBytes > listLength) return parameterListLengthError();
    const count = descriptorBytes / 16;
    if (count > MAX_UNMAP_DESCRIPTORS) return invalidParameter(2);
    const ranges: Range[] = [];
    let total = 0;
    for (let i = 0; i < count; i++) {
      const at = 8 + 16 * i;
      const lba = params.readBigUInt64BE(at);
      const blocks = params.readUInt32BE(at + 8);
      if (lba + BigInt(blocks) > BigInt(this.blocks)) return lbaOutOfRange();
      total += blocks;
      if (blocks > 0) ranges.push({ lba: Number(lba), count: blocks });
    }
    if (total > this.identity.maxUnmapBlocks) return invalidParameter(8);
    for (const r of ranges) await this.deallocate(r.lba, r.count);
    return GOOD;
  }

  private async getLbaStatus(cmd: ScsiCommand): Promise<ScsiResponse> {
    const cdb = cmd.cdb;
    const start = cdb.readBigUInt64BE(2);
    const alloc = cdb.readUInt32BE(10);
    if (start >= BigInt(this.blocks)) return lbaOutOfRange();
    if (alloc < 24) return alloc === 0 ? GOOD : good(Buffer.alloc(0));
    const lba = Number(start);
    const bs = this.blockSize;
    const end = this.blocks;
    const descriptors: { lba: number; count: number; status: number }[] = [];
    const maxDescriptors = Math.min(64, Math.floor((alloc - 8) / 16));
    let at = lba;
    while (at < end && descriptors.length < maxDescriptors) {
      const extent = await this.holes?.extent(at * bs);
      if (!extent) {
        descriptors.push({ lba: at, count: end - at, status: 0 }); // mapped, or unknown
        break;
      }
      // Partial blocks at an extent's edge hold data, so they count as mapped.
      let next = extent.end < 0 ? end : extent.mapped ? Math.ceil(extent.end / bs) : Math.floor(extent.end / bs);
      let status = extent.mapped ? 0 : 1;
      if (next <= at) {
        // A hole smaller than this block: the block holds data.
        next = at + 1;
        status = 0;
      }
      next = Math.min(next, end);
      const last = descriptors[descriptors.length - 1];
      if (last && last.status === status && last.lba + last.count === at) last.count += next - at;
      else descriptors.push({ lba: at, count: next - at, status });
      at = next;
    }
    const data = Buffer.alloc(8 + 16 * descriptors.length);
    data.writeUInt32BE(data.length - 4, 0);
    descriptors.forEach((d, i) => {
      const o = 8 + 16 * i;
      data.writeBigUInt64BE(BigInt(d.lba), o);
      data.writeUInt32BE(Math.min(d.count, 0xffffffff), o + 8);
      data[o + 12] = d.status;
    });
    return good(data);
  }

  // ---- informational commands ------------------------------------------------------

  private inquiry(cmd: ScsiCommand): ScsiResponse {
    const cdb = cmd.cdb;
    const alloc = cdb.readUInt16BE(3);
    if (cdb[1] & 0x02) return invalidField(1, 1); // CMDDT is obsolete
    let data: Buffer | undefined;
    if (cdb[1] & 0x01) {
      data = vpdPage(cdb[2], this.identity, this.port(cmd.nexus));
      if (!data) return invalidField(2);
    } else {
      if (cdb[2] !== 0) return invalidField(2);
      data = standardInquiry();
    }
    return good(truncate(data, alloc));
  }

  private readCapacity10(cmd: ScsiCommand): ScsiResponse {
    const cdb = cmd.cdb;
    if (!(cdb[8] & 0x01) && cdb.readUInt32BE(2) !== 0) return invalidField(2);
    const data = Buffer.alloc(8);
    data.writeUInt32BE(Math.min(this.blocks - 1, 0xffffffff) >>> 0, 0);
    if (this.blocks === 0) data.writeUInt32BE(0, 0);
    data.writeUInt32BE(this.blockSize, 4);
    return good(data);
  }

  private readCapacity16(cmd: ScsiCommand): ScsiResponse {
    const alloc = cmd.cdb.readUInt32BE(10);
    const data = Buffer.alloc(32);
    data.writeBigUInt64BE(BigInt(Math.max(0, this.blocks - 1)), 0);
    data.writeUInt32BE(this.blockSize, 8);
    data[13] = this.identity.physicalExponent;
    if (this.thin) data[14] = 0x80 | 0x40; // LBPME, LBPRZ
    return good(truncate(data, alloc));
  }

  private modeSense(cmd: ScsiCommand, ten: boolean): ScsiResponse {
    const cdb = cmd.cdb;
    const dbd = (cdb[1] & 0x08) !== 0;
    const llbaa = ten && (cdb[1] & 0x10) !== 0;
    const pc = cdb[2] >> 6;
    const code = cdb[2] & 0x3f;
    const subpage = cdb[3];
    const alloc = ten ? cdb.readUInt16BE(7) : cdb[4];
    if (pc === PageControl.SAVED) return checkCondition(SenseKey.ILLEGAL_REQUEST, ASC.SAVING_PARAMETERS_NOT_SUPPORTED);
    if (subpage !== 0 && !(code === ModePage.ALL && subpage === 0xff)) return invalidField(3);
    const pages: Buffer[] = [];
    if (code === ModePage.ALL) {
      for (const c of PAGE_ORDER) pages.push(modePage(c, pc, this.mode)!);
    } else {
      const p = modePage(code, pc, this.mode);
      if (!p) return invalidField(2, 5);
      pages.push(p);
    }
    const wp = cmd.readOnly || this.readOnly || this.mode.swp;
    const deviceSpecific = (wp ? 0x80 : 0) | 0x10; // WP, DPOFUA
    let descriptor = Buffer.alloc(0);
    if (!dbd) {
      if (llbaa) {
        descriptor = Buffer.alloc(16);
        descriptor.writeBigUInt64BE(BigInt(this.blocks), 0);
        descriptor.writeUInt32BE(this.blockSize, 12);
      } else {
        descriptor = Buffer.alloc(8);
        descriptor.writeUInt32BE(Math.min(this.blocks, 0xffffffff) >>> 0, 0);
        descriptor.writeUIntBE(this.blockSize, 5, 3);
      }
    }
    const body = Buffer.concat([descriptor, ...pages]);
    let data: Buffer;
    if (ten) {
      data = Buffer.alloc(8 + body.length);
      data.writeUInt16BE(data.length - 2, 0);
      data[3] = deviceSpecific;
      if (llbaa && !dbd) data[4] = 0x01;
      data.writeUInt16BE(descriptor.length, 6);
      body.copy(data, 8);
    } else {
      data = Buffer.alloc(4 + body.length);
      data[0] = Math.min(0xff, data.length - 1);
      data[2] = deviceSpecific;
      data[3] = descriptor.length;
      body.copy(data, 4);
    }
    return good(truncate(data, alloc));
  }

  private modeSelect(cmd: ScsiCommand, ten: boolean): ScsiResponse {
    const cdb = cmd.cdb;
    const length = ten ? cdb.readUInt16BE(7) : cdb[4];
    if (cdb[1] & 0x01) return checkCondition(SenseKey.ILLEGAL_REQUEST, ASC.SAVING_PARAMETERS_NOT_SUPPORTED);
    if (!(cdb[1] & 0x10)) return invalidField(1, 4); // PF: only SPC page format is understood
    if (length === 0) return GOOD;
    const params = cmd.dataOut?.flat();
    const headerLength = ten ? 8 : 4;
    if (!params || params.length < length || length < headerLength) return parameterListLengthError();
    const list = params.subarray(0, length);
    const descriptorLength = ten ? list.readUInt16BE(6) : list[3];
    const pagesAt = headerLength + descriptorLength;
    if (pagesAt > length) return parameterListLengthError();
    if (descriptorLength > 0) {
      // A block descriptor may only restate the block size; reformatting is not offered.
      const longLba = ten && (list[4] & 0x01) !== 0;
      const blockLength = longLba ? list.readUInt32BE(headerLength + 12) : list.readUIntBE(headerLength + 5, 3);
      if (blockLength !== this.blockSize) return invalidParameter(headerLength + (longLba ? 12 : 5));
    }
    const result = selectPages(list.subarray(pagesAt), pagesAt, this.mode);
    if (!result.ok) return invalidParameter(result.byte);
    const changed = result.state.wce !== this.mode.wce || result.state.swp !== this.mode.swp;
    this.mode = result.state;
    if (changed) {
      for (const id of this.unitAttentions.keys()) {
        if (id !== cmd.nexus.id) this.queueUnitAttention(id, ASC.MODE_PARAMETERS_CHANGED);
      }
    }
    return GOOD;
  }

  private requestSense(cmd: ScsiCommand): ScsiResponse {
    const cdb = cmd.cdb;
    const descriptorFormat = (cdb[1] & 0x01) !== 0;
    const pending = this.unitAttentions.get(cmd.nexus.id);
    const asc = pending?.shift();
    const key = asc ? SenseKey.UNIT_ATTENTION : SenseKey.NO_SENSE;
    const sense = descriptorFormat
      ? descriptorSense(key, asc ?? ASC.NO_ADDITIONAL_SENSE)
      : fixedSense(key, asc ?? ASC.NO_ADDITIONAL_SENSE);
    return good(truncate(sense, cdb[4]));
  }

  /** A file has no grown or primary defects: the list is empty, in whatever format was asked for. */
  private readDefectData(cmd: ScsiCommand, twelve: boolean): ScsiResponse {
    const cdb = cmd.cdb;
    const flags = (twelve ? cdb[1] : cdb[2]) & 0x1f; // REQ_PLIST, REQ_GLIST, DEFECT LIST FORMAT
    const alloc = twelve ? cdb.readUInt32BE(6) : cdb.readUInt16BE(7);
    const data = Buffer.alloc(twelve ? 8 : 4);
    data[1] = flags; // PLISTV/GLISTV mirror the requests: both lists are valid, and empty
    return good(truncate(data, alloc));
  }

  private startStopUnit(cmd: ScsiCommand): ScsiResponse {
    const cdb = cmd.cdb;
    const powerCondition = cdb[4] >> 4;
    const loej = (cdb[4] & 0x02) !== 0;
    // The medium is not removable and has no power states worth modelling: the volume is
    // always ready, and other initiators sharing it must not be stopped by one of them.
    if (powerCondition !== 0) return GOOD;
    if (loej && !(cdb[4] & 0x01)) return invalidField(4, 1);
    return GOOD;
  }

  private reportSupportedOpcodes(cmd: ScsiCommand): ScsiResponse {
    const cdb = cmd.cdb;
    const rctd = (cdb[2] & 0x80) !== 0;
    const options = cdb[2] & 0x07;
    const reqOp = cdb[3];
    const reqSa = cdb.readUInt16BE(4);
    const alloc = cdb.readUInt32BE(6);
    const timeout = (): Buffer => {
      const t = Buffer.alloc(12);
      t.writeUInt16BE(10, 0);
      return t;
    };
    if (options === 0) {
      const entries: Buffer[] = [];
      for (const spec of this.commands.values()) {
        const e = Buffer.alloc(8);
        e[0] = spec.op;
        if (spec.sa !== undefined) {
          e.writeUInt16BE(spec.sa, 2);
          e[5] = 0x01; // SERVACTV
        }
        if (rctd) e[5] |= 0x02; // CTDP
        e.writeUInt16BE(spec.usage.length, 6);
        entries.push(e);
        if (rctd) entries.push(timeout());
      }
      const body = Buffer.concat(entries);
      const data = Buffer.alloc(4 + body.length);
      data.writeUInt32BE(body.length, 0);
      body.copy(data, 4);
      return good(truncate(data, alloc));
    }
    let spec: CommandSpec | undefined;
    if (options === 1) {
      if (hasServiceAction(reqOp)) return invalidField(2);
      spec = this.supported(reqOp);
    } else if (options === 2) {
      if (!hasServiceAction(reqOp)) return invalidField(2);
      spec = this.supported(reqOp, reqSa);
    } else {
      return invalidField(2);
    }
    const usage = spec ? Buffer.from(spec.usage) : Buffer.alloc(0);
    const data = Buffer.alloc(4 + usage.length + (spec && rctd ? 12 : 0));
    data[1] = (spec ? 0x03 : 0x01) | (spec && rctd ? 0x80 : 0); // SUPPORT: 011b supported / 001b not
    data.writeUInt16BE(usage.length, 2);
    usage.copy(data, 4);
    if (spec && rctd) timeout().copy(data, 4 + usage.length);
    return good(truncate(data, alloc));
  }

  private supported(op: number, sa?: number): CommandSpec | undefined {
    return this.commands.get(commandKey(op, sa));
  }

  private persistentReserveOut(cmd: ScsiCommand): ScsiResponse {
    if (this.reservations.blockedBySpc2(cmd.nexus.id)) return reservationConflict();
    return this.reservations.persistentOut(cmd.cdb, cmd.dataOut?.flat(), cmd.nexus);
  }

  private persistentReserveIn(cmd: ScsiCommand): ScsiResponse {
    if (this.reservations.blockedBySpc2(cmd.nexus.id)) return reservationConflict();
    return this.reservations.persistentIn(cmd.cdb);
  }

  // ---- the command table -------------------------------------------------------------

  private commandTable(): CommandSpec[] {
    const rw10 = (op: number, b1: number) => [op, b1, 0xff, 0xff, 0xff, 0xff, 0x00, 0xff, 0xff, 0x00];
    const rw12 = (op: number, b1: number) => [op, b1, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x00, 0x00];
    const rw16 = (op: number, b1: number) => [op, b1, ...Array(12).fill(0xff), 0x00, 0x00];
    const thin = this.thin;
    const specs: CommandSpec[] = [
      { op: Op.TEST_UNIT_READY, usage: [0x00, 0, 0, 0, 0, 0], access: 'status', writes: false, run: () => GOOD },
      {
        op: Op.REQUEST_SENSE,
        usage: [0x03, 0x01, 0, 0, 0xff, 0],
        access: 'none',
        writes: false,
        bypassesUnitAttention: true,
        run: (cmd) => this.requestSense(cmd),
      },
      {
        op: Op.READ_6,
        usage: [0x08, 0x1f, 0xff, 0xff, 0xff, 0],
        access: 'read',
        writes: false,
        run: (cmd) => this.read(cmd, this.range6(cmd.cdb), 4),
      },
      {
        op: Op.WRITE_6,
        usage: [0x0a, 0x1f, 0xff, 0xff, 0xff, 0],
        access: 'write',
        writes: true,
        run: (cmd) => this.write(cmd, this.range6(cmd.cdb), 4),
      },
      {
        op: Op.INQUIRY,
        usage: [0x12, 0x01, 0xff, 0xff, 0xff, 0],
        access: 'none',
        writes: false,
        bypassesUnitAttention: true,
        run: (cmd) => this.inquiry(cmd),
      },
      { op: Op.MODE_SELECT_6, usage: [0x15, 0x11, 0, 0, 0xff, 0], access: 'write', writes: false, run: (cmd) => this.guardedModeSelect(cmd, false) },
      { op: Op.RESERVE_6, usage: [0x16, 0, 0, 0, 0, 0], access: 'none', writes: false, run: (cmd) => this.reservations.reserve6(cmd.nexus.id) },
      { op: Op.RELEASE_6, usage: [0x17, 0, 0, 0, 0, 0], access: 'none', writes: false, run: (cmd) => this.reservations.release6(cmd.nexus.id) },
      { op: Op.MODE_SENSE_6, usage: [0x1a, 0x08, 0xff, 0xff, 0xff, 0], access: 'read', writes: false, run: (cmd) => this.modeSense(cmd, false) },
      { op: Op.START_STOP_UNIT, usage: [0x1b, 0x01, 0, 0x0f, 0xf7, 0], access: 'write', writes: false, run: (cmd) => this.startStopUnit(cmd) },
      {
        op: Op.READ_CAPACITY_10,
        usage: [0x25, 0, 0xff, 0xff, 0xff, 0xff, 0, 0, 0x01, 0],
        access: 'status',
        writes: false,
        run: (cmd) => this.readCapacity10(cmd),
      },
      { op: Op.READ_10, usage: rw10(Op.READ_10, 0xf8), access: 'read', writes: false, run: (cmd) => this.read(cmd, this.range(cmd.cdb, 2, 4, 7, 2), 7) },
      { op: Op.WRITE_10, usage: rw10(Op.WRITE_10, 0xf8), access: 'write', writes: true, run: (cmd) => this.write(cmd, this.range(cmd.cdb, 2, 4, 7, 2), 7) },
      {
        op: Op.WRITE_AND_VERIFY_10,
        usage: rw10(Op.WRITE_AND_VERIFY_10, 0xf2),
        access: 'write',
        writes: true,
        run: (cmd) => this.write(cmd, this.range(cmd.cdb, 2, 4, 7, 2), 7, true),
      },
      { op: Op.VERIFY_10, usage: rw10(Op.VERIFY_10, 0xf6), access: 'read', writes: false, run: (cmd) => this.verify(cmd, this.range(cmd.cdb, 2, 4, 7, 2), 7) },
      { op: Op.PRE_FETCH_10, usage: rw10(Op.PRE_FETCH_10, 0x02), access: 'read', writes: false, run: (cmd) => this.prefetch(this.range(cmd.cdb, 2, 4, 7, 2)) },
      {
        op: Op.SYNCHRONIZE_CACHE_10,
        usage: rw10(Op.SYNCHRONIZE_CACHE_10, 0x02),
        access: 'write',
        writes: false,
        run: (cmd) => this.synchronizeCache(this.range(cmd.cdb, 2, 4, 7, 2)),
      },
      {
        op: Op.READ_DEFECT_DATA_10,
        usage: [0x37, 0, 0x1f, 0, 0, 0, 0, 0xff, 0xff, 0],
        access: 'read',
        writes: false,
        run: (cmd) => this.readDefectData(cmd, false),
      },
      {
        op: Op.WRITE_SAME_10,
        usage: rw10(Op.WRITE_SAME_10, 0xe0 | (thin ? 0x08 : 0)),
        access: 'write',
        writes: true,
        run: (cmd) => this.writeSame(cmd, false),
      },
      { op: Op.MODE_SELECT_10, usage: [0x55, 0x11, 0, 0, 0, 0, 0, 0xff, 0xff, 0], access: 'write', writes: false, run: (cmd) => this.guardedModeSelect(cmd, true) },
      { op: Op.MODE_SENSE_10, usage: [0x5a, 0x18, 0xff, 0xff, 0, 0, 0, 0xff, 0xff, 0], access: 'read', writes: false, run: (cmd) => this.modeSense(cmd, true) },
      {
        op: Op.PERSISTENT_RESERVE_IN,
        usage: [0x5e, 0x1f, 0, 0, 0, 0, 0, 0xff, 0xff, 0],
        access: 'none',
        writes: false,
        run: (cmd) => this.persistentReserveIn(cmd),
      },
      {
        op: Op.PERSISTENT_RESERVE_OUT,
        usage: [0x5f, 0x1f, 0xff, 0, 0, 0xff, 0xff, 0xff, 0xff, 0],
        access: 'none',
        writes: false,
        run: (cmd) => this.persistentReserveOut(cmd),
      },
      { op: Op.READ_16, usage: rw16(Op.READ_16, 0xf8), access: 'read', writes: false, run: (cmd) => this.read(cmd, this.range(cmd.cdb, 2, 8, 10, 4), 10) },
      {
        op: Op.COMPARE_AND_WRITE,
        usage: [0x89, 0xf8, ...Array(8).fill(0xff), 0, 0, 0, 0xff, 0, 0],
        access: 'write',
        writes: true,
        run: (cmd) => this.compareAndWrite(cmd),
      },
      { op: Op.WRITE_16, usage: rw16(Op.WRITE_16, 0xf8), access: 'write', writes: true, run: (cmd) => this.write(cmd, this.range(cmd.cdb, 2, 8, 10, 4), 10) },
      { op: Op.ORWRITE_16, usage: rw16(Op.ORWRITE_16, 0xf8), access: 'write', writes: true, run: (cmd) => this.orWrite(cmd) },
      {
        op: Op.WRITE_AND_VERIFY_16,
        usage: rw16(Op.WRITE_AND_VERIFY_16, 0xf2),
        access: 'write',
        writes: true,
        run: (cmd) => this.write(cmd, this.range(cmd.cdb, 2, 8, 10, 4), 10, true),
      },
      { op: Op.VERIFY_16, usage: rw16(Op.VERIFY_16, 0xf6), access: 'read', writes: false, run: (cmd) => this.verify(cmd, this.range(cmd.cdb, 2, 8, 10, 4), 10) },
      { op: Op.PRE_FETCH_16, usage: rw16(Op.PRE_FETCH_16, 0x02), access: 'read', writes: false, run: (cmd) => this.prefetch(this.range(cmd.cdb, 2, 8, 10, 4)) },
      {
        op: Op.SYNCHRONIZE_CACHE_16,
        usage: rw16(Op.SYNCHRONIZE_CACHE_16, 0x02),
        access: 'write',
        writes: false,
        run: (cmd) => this.synchronizeCache(this.range(cmd.cdb, 2, 8, 10, 4)),
      },
      {
        op: Op.WRITE_SAME_16,
        usage: rw16(Op.WRITE_SAME_16, 0xe0 | (thin ? 0x09 : 0)),
        access: 'write',
        writes: true,
        run: (cmd) => this.writeSame(cmd, true),
      },
      {
        op: Op.SERVICE_ACTION_IN_16,
        sa: SaIn16.READ_CAPACITY_16,
        usage: [0x9e, 0x10, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 0xff, 0xff, 0, 0],
        access: 'status',
        writes: false,
        run: (cmd) => this.readCapacity16(cmd),
      },
      {
        op: Op.MAINTENANCE_IN,
        sa: MaintenanceIn.REPORT_SUPPORTED_OPERATION_CODES,
        usage: [0xa3, 0x0c, 0x87, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0, 0],
        access: 'status',
        writes: false,
        run: (cmd) => this.reportSupportedOpcodes(cmd),
      },
      {
        // The dispatcher answers for the whole target; alone, a unit knows only its own LUN.
        op: Op.REPORT_LUNS,
        usage: [0xa0, 0, 0xff, 0, 0, 0, 0xff, 0xff, 0xff, 0xff, 0, 0],
        access: 'none',
        writes: false,
        bypassesUnitAttention: true,
        run: (cmd) => reportLuns([cmd.lun], cmd.cdb),
      },
      { op: Op.READ_12, usage: rw12(Op.READ_12, 0xf8), access: 'read', writes: false, run: (cmd) => this.read(cmd, this.range(cmd.cdb, 2, 4, 6, 4), 6) },
      { op: Op.WRITE_12, usage: rw12(Op.WRITE_12, 0xf8), access: 'write', writes: true, run: (cmd) => this.write(cmd, this.range(cmd.cdb, 2, 4, 6, 4), 6) },
      {
        op: Op.WRITE_AND_VERIFY_12,
        usage: rw12(Op.WRITE_AND_VERIFY_12, 0xf2),
        access: 'write',
        writes: true,
        run: (cmd) => this.write(cmd, this.range(cmd.cdb, 2, 4, 6, 4), 6, true),
      },
      {
        op: Op.READ_DEFECT_DATA_12,
        usage: [0xb7, 0x1f, 0, 0, 0, 0, 0xff, 0xff, 0xff, 0xff, 0, 0],
        access: 'read',
        writes: false,
        run: (cmd) => this.readDefectData(cmd, true),
      },
      { op: Op.VERIFY_12, usage: rw12(Op.VERIFY_12, 0xf6), access: 'read', writes: false, run: (cmd) => this.verify(cmd, this.range(cmd.cdb, 2, 4, 6, 4), 6) },
    ];
    if (thin) {
      specs.push(
        { op: Op.UNMAP, usage: [0x42, 0x01, 0, 0, 0, 0, 0, 0xff, 0xff, 0], access: 'write', writes: true, run: (cmd) => this.unmap(cmd) },
        {
          op: Op.SERVICE_ACTION_IN_16,
          sa: SaIn16.GET_LBA_STATUS,
          usage: [0x9e, 0x12, ...Array(12).fill(0xff), 0, 0],
          access: 'read',
          writes: false,
          run: (cmd) => this.getLbaStatus(cmd),
        },
      );
    }
    return specs;
  }

  private range6(cdb: Buffer): Range | ScsiResponse {
    const lba = ((cdb[1] & 0x1f) << 16) | cdb.readUInt16BE(2);
    const count = cdb[4] === 0 ? 256 : cdb[4];
    if (lba + count > this.blocks) return lbaOutOfRange();
    return { lba, count };
  }

  /** MODE SELECT changes what every nexus sees, so a write-protected nexus may not use it. */
  private guardedModeSelect(cmd: ScsiCommand, ten: boolean): ScsiResponse {
    if (cmd.readOnly || this.readOnly) return writeProtected();
    return this.modeSelect(cmd, ten);
  }
}

function commandKey(op: number, sa?: number): number {
  return sa === undefined ? op : (op << 8) | sa | 0x10000;
}

/** Opcodes whose byte 1 carries a service action that selects the command. */
function hasServiceAction(op: number): boolean {
  return op === Op.SERVICE_ACTION_IN_16 || op === Op.MAINTENANCE_IN;
}

function truncate(data: Buffer, alloc: number): Buffer {
  return data.length > alloc ? data.subarray(0, alloc) : data;
}

let readSlab = Buffer.alloc(0);
let readSlabUsed = 0;

function smallReadBuffer(length: number): Buffer {
  if (readSlabUsed + length > readSlab.length) {
    readSlab = Buffer.allocUnsafeSlow(READ_SLAB_BYTES);
    readSlabUsed = 0;
  }
  const buf = readSlab.subarray(readSlabUsed, readSlabUsed + length);
  readSlabUsed += length;
  return buf;
}

function firstDifference(a: Buffer, b: Buffer): number {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) if (a[i] !== b[i]) return i;
  return n;
}

function descriptorSense(key: number, asc: Asc): Buffer {
  const sense = Buffer.alloc(8);
  sense[0] = 0x72;
  sense[1] = key;
  sense[2] = asc[0];
  sense[3] = asc[1];
  return sense;
}

/** Turns a failed file operation into sense data: the initiator sees an error, never a dropped command. */
function ioFailure(e: unknown, opcode: number): ScsiResponse {
  const code = (e as NodeJS.ErrnoException | undefined)?.code;
  if (code === 'ENOSPC' || code === 'EDQUOT') return checkCondition(SenseKey.DATA_PROTECT, SPACE_ALLOCATION_FAILED_WRITE_PROTECT);
  const reading = opcode === Op.READ_6 || opcode === Op.READ_10 || opcode === Op.READ_12 || opcode === Op.READ_16;
  if (code === 'EIO') return checkCondition(SenseKey.MEDIUM_ERROR, reading ? ASC.UNRECOVERED_READ_ERROR : ASC.WRITE_ERROR);
  return checkCondition(SenseKey.HARDWARE_ERROR, ASC.INTERNAL_TARGET_FAILURE);
}
