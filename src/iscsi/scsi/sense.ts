// SCSI status bytes and fixed-format sense data (SPC-4 4.5.3). Every failed command
// leaves through checkCondition(), so the sense layout lives in one place.

import type { ScsiResponse } from './types.js';

export const Status = {
  GOOD: 0x00,
  CHECK_CONDITION: 0x02,
  CONDITION_MET: 0x04,
  BUSY: 0x08,
  RESERVATION_CONFLICT: 0x18,
  TASK_SET_FULL: 0x28,
} as const;

export const SenseKey = {
  NO_SENSE: 0x0,
  RECOVERED_ERROR: 0x1,
  NOT_READY: 0x2,
  MEDIUM_ERROR: 0x3,
  HARDWARE_ERROR: 0x4,
  ILLEGAL_REQUEST: 0x5,
  UNIT_ATTENTION: 0x6,
  DATA_PROTECT: 0x7,
  ABORTED_COMMAND: 0xb,
  MISCOMPARE: 0xe,
} as const;

/** Additional sense code and qualifier, as [ASC, ASCQ]. */
export type Asc = readonly [number, number];

export const ASC = {
  NO_ADDITIONAL_SENSE: [0x00, 0x00],
  WRITE_ERROR: [0x0c, 0x00],
  INVALID_FIELD_IN_INFORMATION_UNIT: [0x0e, 0x03],
  UNRECOVERED_READ_ERROR: [0x11, 0x00],
  MISCOMPARE_DURING_VERIFY: [0x1d, 0x00],
  PARAMETER_LIST_LENGTH_ERROR: [0x1a, 0x00],
  INVALID_COMMAND_OPERATION_CODE: [0x20, 0x00],
  LBA_OUT_OF_RANGE: [0x21, 0x00],
  INVALID_FIELD_IN_CDB: [0x24, 0x00],
  LOGICAL_UNIT_NOT_SUPPORTED: [0x25, 0x00],
  INVALID_FIELD_IN_PARAMETER_LIST: [0x26, 0x00],
  PARAMETER_VALUE_INVALID: [0x26, 0x02],
  WRITE_PROTECTED: [0x27, 0x00],
  POWER_ON_RESET: [0x29, 0x00],
  BUS_DEVICE_RESET: [0x29, 0x03],
  I_T_NEXUS_LOSS: [0x29, 0x07],
  MODE_PARAMETERS_CHANGED: [0x2a, 0x01],
  RESERVATIONS_PREEMPTED: [0x2a, 0x03],
  RESERVATIONS_RELEASED: [0x2a, 0x04],
  REGISTRATIONS_PREEMPTED: [0x2a, 0x05],
  CAPACITY_DATA_HAS_CHANGED: [0x2a, 0x09],
  COMMANDS_CLEARED_BY_ANOTHER_INITIATOR: [0x2f, 0x00],
  SAVING_PARAMETERS_NOT_SUPPORTED: [0x39, 0x00],
  INSUFFICIENT_REGISTRATION_RESOURCES: [0x55, 0x04],
  INTERNAL_TARGET_FAILURE: [0x44, 0x00],
} as const satisfies Record<string, Asc>;

const RESPONSE_CODE_CURRENT_FIXED = 0x70;
export const FIXED_SENSE_LENGTH = 18;

export interface SenseOptions {
  /** INFORMATION field (VALID bit set): e.g. the miscompare offset. Must fit 32 bits. */
  information?: number;
  /** Sense-key specific field pointer to the offending byte (SKSV set). */
  field?: { inCdb: boolean; byte: number; bit?: number };
}

export function fixedSense(key: number, asc: Asc, opts: SenseOptions = {}): Buffer {
  const sense = Buffer.alloc(FIXED_SENSE_LENGTH);
  sense[0] = RESPONSE_CODE_CURRENT_FIXED;
  sense[2] = key & 0x0f;
  if (opts.information !== undefined) {
    sense[0] |= 0x80;
    sense.writeUInt32BE(opts.information >>> 0, 3);
  }
  sense[7] = FIXED_SENSE_LENGTH - 8;
  sense[12] = asc[0];
  sense[13] = asc[1];
  if (opts.field) {
    const { inCdb, byte, bit } = opts.field;
    sense[15] = 0x80 | (inCdb ? 0x40 : 0) | (bit !== undefined ? 0x08 | (bit & 7) : 0);
    sense.writeUInt16BE(byte & 0xffff, 16);
  }
  return sense;
}

export const GOOD: ScsiResponse = Object.freeze({ status: Status.GOOD }) as ScsiResponse;

export function good(data?: Buffer): ScsiResponse {
  return data ? { status: Status.GOOD, data } : GOOD;
}

export function checkCondition(key: number, asc: Asc, opts?: SenseOptions): ScsiResponse {
  return { status: Status.CHECK_CONDITION, sense: fixedSense(key, asc, opts) };
}

export const reservationConflict = (): ScsiResponse => ({ status: Status.RESERVATION_CONFLICT });

export const invalidOpcode = (): ScsiResponse =>
  checkCondition(SenseKey.ILLEGAL_REQUEST, ASC.INVALID_COMMAND_OPERATION_CODE, { field: { inCdb: true, byte: 0 } });

export const invalidField = (byte: number, bit?: number): ScsiResponse =>
  checkCondition(SenseKey.ILLEGAL_REQUEST, ASC.INVALID_FIELD_IN_CDB, { field: { inCdb: true, byte, bit } });

export const invalidParameter = (byte: number, bit?: number): ScsiResponse =>
  checkCondition(SenseKey.ILLEGAL_REQUEST, ASC.INVALID_FIELD_IN_PARAMETER_LIST, { field: { inCdb: false, byte, bit } });

export const parameterListLengthError = (): ScsiResponse =>
  checkCondition(SenseKey.ILLEGAL_REQUEST, ASC.PARAMETER_LIST_LENGTH_ERROR);

export const lbaOutOfRange = (): ScsiResponse => checkCondition(SenseKey.ILLEGAL_REQUEST, ASC.LBA_OUT_OF_RANGE);

export const writeProtected = (): ScsiResponse => checkCondition(SenseKey.DATA_PROTECT, ASC.WRITE_PROTECTED);

export const logicalUnitNotSupported = (): ScsiResponse =>
  checkCondition(SenseKey.ILLEGAL_REQUEST, ASC.LOGICAL_UNIT_NOT_SUPPORTED);

/** Decoded view of fixed or descriptor sense, for tests and logs. */
export function parseSense(sense: Buffer): { key: number; asc: number; ascq: number; information?: number } {
  const code = sense[0] & 0x7f;
  if (code === 0x72 || code === 0x73) return { key: sense[1] & 0x0f, asc: sense[2], ascq: sense[3] };
  const parsed: { key: number; asc: number; ascq: number; information?: number } = {
    key: sense[2] & 0x0f,
    asc: sense[12],
    ascq: sense[13],
  };
  if (sense[0] & 0x80) parsed.information = sense.readUInt32BE(3);
  return parsed;
}
