// A logical unit with I/O limits: reads and writes wait, in arrival order, until every
// bucket they draw on has room; they are delayed, never refused. It wraps a unit only
// while a limit is set, so an unlimited unit pays nothing for the feature.
//
// Each bucket is a leaky bucket that lets a command in while its level is at most one
// tenth of a second of its rate, then adds the command's cost. A command larger than
// that allowance still passes (once the level is down to it), so no size of command
// can wait forever, and over any longer span the rate is what the limit says.
//
// A waiting command that task management aborts never runs: an aborted write must not
// reach the medium after the initiator was told it is gone.

import { Op } from './opcodes.js';
import { ASC, checkCondition, SenseKey } from './sense.js';
import type { ItNexus, LogicalUnit, ResetKind, ScsiCommand, ScsiResponse } from './types.js';

/** Per-second limits, as QoS specs name them; a missing or non-positive one does not limit. */
export interface IoLimits {
  total_iops_sec?: number;
  read_iops_sec?: number;
  write_iops_sec?: number;
  total_bytes_sec?: number;
  read_bytes_sec?: number;
  write_bytes_sec?: number;
}

export const IO_LIMIT_KEYS = ['total_iops_sec', 'read_iops_sec', 'write_iops_sec', 'total_bytes_sec', 'read_bytes_sec', 'write_bytes_sec'] as const;

const BURST_SECONDS = 0.1;

const READS = new Set<number>([Op.READ_6, Op.READ_10, Op.READ_12, Op.READ_16]);
const WRITES = new Set<number>([
  Op.WRITE_6,
  Op.WRITE_10,
  Op.WRITE_12,
  Op.WRITE_16,
  Op.WRITE_AND_VERIFY_10,
  Op.WRITE_AND_VERIFY_12,
  Op.WRITE_AND_VERIFY_16,
  Op.ORWRITE_16,
  Op.COMPARE_AND_WRITE,
]);

export function hasLimits(limits: IoLimits | undefined): limits is IoLimits {
  return limits !== undefined && IO_LIMIT_KEYS.some((key) => (limits[key] ?? 0) > 0);
}

class Bucket {
  private level = 0;
  private at: number;
  private readonly allowance: number;

  constructor(
    private readonly rate: number,
    now: number,
  ) {
    this.at = now;
    this.allowance = rate * BURST_SECONDS;
  }

  private drain(now: number): void {
    this.level = Math.max(0, this.level - ((now - this.at) / 1000) * this.rate);
    this.at = now;
  }

  /** Milliseconds until a command may draw on this bucket. */
  waitMs(now: number): number {
    this.drain(now);
    return this.level <= this.allowance ? 0 : ((this.level - this.allowance) / this.rate) * 1000;
  }

  take(cost: number): void {
    this.level += cost;
  }
}

type Kind = 'read' | 'write';

// What an aborted command answers; the transport sends nothing for it.
const ABORTED = checkCondition(SenseKey.ABORTED_COMMAND, ASC.NO_ADDITIONAL_SENSE);

interface Waiting {
  cmd: ScsiCommand;
  kind: Kind;
  resolve(response: ScsiResponse | Promise<ScsiResponse>): void;
}

export class ThrottledLogicalUnit implements LogicalUnit {
  private buckets = new Map<keyof IoLimits, Bucket>();
  private readonly queue: Waiting[] = [];
  private timer: NodeJS.Timeout | null = null;

  constructor(
    readonly inner: LogicalUnit,
    limits: IoLimits,
    private readonly clock: () => number = () => performance.now(),
  ) {
    this.setLimits(limits);
  }

  /** New limits apply from the next command on; commands waiting are measured against them. */
  setLimits(limits: IoLimits): void {
    const now = this.clock();
    this.buckets = new Map(IO_LIMIT_KEYS.filter((key) => (limits[key] ?? 0) > 0).map((key) => [key, new Bucket(limits[key]!, now)]));
    this.reschedule();
  }

  execute(cmd: ScsiCommand): ScsiResponse | Promise<ScsiResponse> {
    const opcode = cmd.cdb[0]!;
    const kind = READS.has(opcode) ? 'read' : WRITES.has(opcode) ? 'write' : null;
    if (kind === null) return this.inner.execute(cmd);
    const drawn = this.bucketsFor(kind, cmd.expectedLength);
    if (drawn.length === 0) return this.inner.execute(cmd);
    if (this.queue.length === 0 && this.waitMs(drawn) === 0) {
      for (const [bucket, cost] of drawn) bucket.take(cost);
      return this.inner.execute(cmd);
    }
    return new Promise((resolve) => {
      this.queue.push({ cmd, kind, resolve });
      this.reschedule();
    });
  }

  // The transport marks the tasks a reset or a lost nexus ends before it calls these.
  reset(kind: ResetKind, nexus: ItNexus): void {
    this.inner.reset(kind, nexus);
    this.reschedule();
  }

  nexusLost(nexus: ItNexus): void {
    this.inner.nexusLost(nexus);
    this.reschedule();
  }

  resized(): Promise<void> {
    return this.inner.resized();
  }

  /** The limits go: everything waiting runs now. The inner unit stays open; its owner closes it. */
  async close(): Promise<void> {
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    for (const waiting of this.queue.splice(0)) waiting.resolve(this.run(waiting.cmd));
  }

  private run(cmd: ScsiCommand): ScsiResponse | Promise<ScsiResponse> {
    return cmd.task?.aborted ? ABORTED : this.inner.execute(cmd);
  }

  private dropAborted(): void {
    if (!this.queue.some((waiting) => waiting.cmd.task?.aborted)) return;
    const live = this.queue.filter((waiting) => {
      if (!waiting.cmd.task?.aborted) return true;
      waiting.resolve(ABORTED);
      return false;
    });
    this.queue.splice(0, this.queue.length, ...live);
  }

  private bucketsFor(kind: Kind, bytes: number): [Bucket, number][] {
    const drawn: [Bucket, number][] = [];
    const add = (key: keyof IoLimits, cost: number) => {
      const bucket = this.buckets.get(key);
      if (bucket) drawn.push([bucket, cost]);
    };
    add('total_iops_sec', 1);
    add('total_bytes_sec', bytes);
    add(kind === 'read' ? 'read_iops_sec' : 'write_iops_sec', 1);
    add(kind === 'read' ? 'read_bytes_sec' : 'write_bytes_sec', bytes);
    return drawn;
  }

  private waitMs(drawn: readonly [Bucket, number][]): number {
    const now = this.clock();
    let wait = 0;
    for (const [bucket] of drawn) wait = Math.max(wait, bucket.waitMs(now));
    return wait;
  }

  /** Releases waiting commands in order while they fit, and sleeps until the first that does not. */
  private reschedule(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    this.dropAborted();
    while (this.queue.length > 0) {
      const head = this.queue[0]!;
      // Looked up each time: setLimits may have replaced the buckets since the command came.
      const drawn = this.bucketsFor(head.kind, head.cmd.expectedLength);
      const wait = this.waitMs(drawn);
      if (wait > 0) {
        this.timer = setTimeout(() => this.reschedule(), Math.max(1, Math.ceil(wait)));
        return;
      }
      this.queue.shift();
      for (const [bucket, cost] of drawn) bucket.take(cost);
      head.resolve(this.run(head.cmd));
    }
  }
}
