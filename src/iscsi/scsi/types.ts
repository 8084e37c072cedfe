// The seam between the iSCSI transport (pdu/, login/, session/) and the SCSI
// command set (scsi/). The transport gathers a command's write data, calls
// execute(), and turns the answer into Data-In / SCSI Response PDUs. Nothing here
// knows about volumes or databases.

import type { DataOut } from './data-out.js';

/** One I_T nexus: an initiator port talking to a target port. Reservations and unit attentions are kept per nexus. */
export interface ItNexus {
  /** Stable while the session lives: initiator name + ISID + target portal group tag. */
  readonly id: string;
  readonly initiatorName: string;
  /** Transport id for PERSISTENT RESERVE (iSCSI initiator port name: "<name>,i,0x<isid>"). */
  readonly initiatorPortName: string;
  /** iSCSI target port name ("<target name>,t,0x<tpgt>") for the target port designator of VPD 0x83, when known. */
  readonly targetPortName?: string;
}

export const enum DataDirection {
  None = 0,
  Read = 1,
  Write = 2,
}

export interface ScsiCommand {
  cdb: Buffer;
  lun: number;
  nexus: ItNexus;
  /** Expected Data Transfer Length from the initiator. */
  expectedLength: number;
  direction: DataDirection;
  /** All write data, gathered by the transport (immediate + unsolicited + solicited); may be shorter than expectedLength. */
  dataOut?: DataOut;
  /** The nexus may only read: write-type commands answer DATA PROTECT and MODE SENSE shows WP. */
  readOnly: boolean;
  /**
   * The transport's task: `aborted` turns true when task management or a lost connection
   * ends it. A unit that holds commands back must not start one that is aborted by then.
   */
  task?: { readonly aborted: boolean };
}

export interface ScsiResponse {
  /** SCSI status byte: 0x00 GOOD, 0x02 CHECK CONDITION, 0x18 RESERVATION CONFLICT, ... */
  status: number;
  /** Data for the initiator (reads); the transport truncates to expectedLength and reports residuals. */
  data?: Buffer;
  /** Fixed-format sense data when status is CHECK CONDITION. */
  sense?: Buffer;
  /**
   * Write-type commands: the bytes of Data-Out the CDB called for. When it differs from
   * the Expected Data Transfer Length, the transport reports the difference as an
   * overflow or underflow residual (RFC 7143 11.4.5), as it does from data.length for reads.
   */
  transferLength?: number;
}

export type ResetKind = 'lun-reset' | 'target-warm-reset' | 'target-cold-reset' | 'abort-task-set' | 'clear-task-set';

/** A logical unit as the transport sees it. */
export interface LogicalUnit {
  /** A plain response when the command finished at once (most reads and writes hit the page cache). */
  execute(cmd: ScsiCommand): ScsiResponse | Promise<ScsiResponse>;
  /** Task management: clears what SAM says the reset clears and queues the unit attentions it must raise. */
  reset(kind: ResetKind, nexus: ItNexus): void;
  /** The nexus went away (logout, dropped connection): releases RESERVE(6) reservations it held. */
  nexusLost(nexus: ItNexus): void;
  /** The backing store changed size: new capacity, and CAPACITY DATA HAS CHANGED for every nexus. */
  resized(): Promise<void>;
  close(): Promise<void>;
}
