// Reservations of one logical unit: SPC-2 RESERVE(6)/RELEASE(6) and SPC-4 persistent
// reservations (5.12-5.13). Registrations belong to an I_T nexus and outlive its
// connection (a reconnecting initiator keeps its key); RESERVE(6) reservations end with
// the nexus or a reset. Nothing is persisted across restarts, so PTPL is not offered.

import { ASC, type Asc, GOOD, SenseKey, checkCondition, good, invalidField, invalidParameter, parameterListLengthError, reservationConflict } from './sense.js';
import type { ItNexus, ScsiResponse } from './types.js';

export const PrType = {
  WRITE_EXCLUSIVE: 1,
  EXCLUSIVE_ACCESS: 3,
  WRITE_EXCLUSIVE_REGISTRANTS_ONLY: 5,
  EXCLUSIVE_ACCESS_REGISTRANTS_ONLY: 6,
  WRITE_EXCLUSIVE_ALL_REGISTRANTS: 7,
  EXCLUSIVE_ACCESS_ALL_REGISTRANTS: 8,
} as const;

export const PrOut = {
  REGISTER: 0,
  RESERVE: 1,
  RELEASE: 2,
  CLEAR: 3,
  PREEMPT: 4,
  PREEMPT_AND_ABORT: 5,
  REGISTER_AND_IGNORE_EXISTING_KEY: 6,
  REGISTER_AND_MOVE: 7,
} as const;

export const PrIn = {
  READ_KEYS: 0,
  READ_RESERVATION: 1,
  REPORT_CAPABILITIES: 2,
  READ_FULL_STATUS: 3,
} as const;

/**
 * How a command is judged against reservations held by other nexuses: 'none' never
 * conflicts; 'status' (TEST UNIT READY, READ CAPACITY, ...) conflicts only with a
 * RESERVE(6) reservation, as SPC-4 table 63 allows it under every persistent type;
 * 'read' and 'write' follow the persistent reservation type.
 */
export type AccessClass = 'none' | 'status' | 'read' | 'write';

const VALID_TYPES = new Set<number>(Object.values(PrType));
const ALL_REGISTRANTS = new Set<number>([PrType.WRITE_EXCLUSIVE_ALL_REGISTRANTS, PrType.EXCLUSIVE_ACCESS_ALL_REGISTRANTS]);
const REGISTRANTS_ONLY = new Set<number>([PrType.WRITE_EXCLUSIVE_REGISTRANTS_ONLY, PrType.EXCLUSIVE_ACCESS_REGISTRANTS_ONLY]);
const EXCLUSIVE_ACCESS = new Set<number>([
  PrType.EXCLUSIVE_ACCESS,
  PrType.EXCLUSIVE_ACCESS_REGISTRANTS_ONLY,
  PrType.EXCLUSIVE_ACCESS_ALL_REGISTRANTS,
]);
const PROUT_PARAMETER_LENGTH = 24;
const INVALID_RELEASE: Asc = [0x26, 0x04]; // INVALID RELEASE OF PERSISTENT RESERVATION

interface Registration {
  key: bigint;
  nexus: ItNexus;
}

interface Reservation {
  holder: string;
  type: number;
}

export class Reservations {
  private reserve6Holder: string | null = null;
  private readonly registrations = new Map<string, Registration>();
  private reservation: Reservation | null = null;
  private generation = 0;

  constructor(private readonly unitAttention: (nexusId: string, asc: Asc) => void) {}

  /** True when the nexus holds the persistent reservation (every registrant does for the all-registrants types). */
  private isHolder(nexusId: string): boolean {
    const r = this.reservation;
    if (!r) return false;
    return ALL_REGISTRANTS.has(r.type) ? this.registrations.has(nexusId) : r.holder === nexusId;
  }

  /** Whether a command of this class from this nexus must get RESERVATION CONFLICT. */
  conflicts(nexusId: string, access: AccessClass): boolean {
    if (access === 'none') return false;
    if (this.reserve6Holder !== null && this.reserve6Holder !== nexusId) return true;
    const r = this.reservation;
    if (!r || access === 'status' || this.isHolder(nexusId)) return false;
    if ((REGISTRANTS_ONLY.has(r.type) || ALL_REGISTRANTS.has(r.type)) && this.registrations.has(nexusId)) return false;
    return access === 'write' || EXCLUSIVE_ACCESS.has(r.type);
  }

  /** PERSISTENT RESERVE IN/OUT are refused while another nexus holds a RESERVE(6) reservation. */
  blockedBySpc2(nexusId: string): boolean {
    return this.reserve6Holder !== null && this.reserve6Holder !== nexusId;
  }

  reserve6(nexusId: string): ScsiResponse {
    if (this.reserve6Holder !== null && this.reserve6Holder !== nexusId) return reservationConflict();
    if (this.reservation) {
      // SPC-4 5.13.3: a persistent reservation holder's RESERVE is a no-op; everyone else conflicts.
      return this.isHolder(nexusId) ? GOOD : reservationConflict();
    }
    this.reserve6Holder = nexusId;
    return GOOD;
  }

  release6(nexusId: string): ScsiResponse {
    if (this.reservation && !this.isHolder(nexusId) && !this.registrations.has(nexusId)) return reservationConflict();
    if (this.reserve6Holder === nexusId) this.reserve6Holder = null;
    return GOOD;
  }

  nexusLost(nexusId: string): void {
    if (this.reserve6Holder === nexusId) this.reserve6Holder = null;
  }

  /** LUN and target resets release RESERVE(6) reservations; persistent ones survive. */
  reset(): void {
    this.reserve6Holder = null;
  }

  persistentIn(cdb: Buffer): ScsiResponse {
    const sa = cdb[1] & 0x1f;
    const alloc = cdb.readUInt16BE(7);
    let data: Buffer;
    switch (sa) {
      case PrIn.READ_KEYS: {
        const keys = [...this.registrations.values()];
        data = Buffer.alloc(8 + 8 * keys.length);
        data.writeUInt32BE(this.generation, 0);
        data.writeUInt32BE(8 * keys.length, 4);
        keys.forEach((reg, i) => data.writeBigUInt64BE(reg.key, 8 + 8 * i));
        break;
      }
      case PrIn.READ_RESERVATION: {
        const r = this.reservation;
        data = Buffer.alloc(r ? 24 : 8);
        data.writeUInt32BE(this.generation, 0);
        if (r) {
          data.writeUInt32BE(16, 4);
          const key = ALL_REGISTRANTS.has(r.type) ? 0n : (this.registrations.get(r.holder)?.key ?? 0n);
          data.writeBigUInt64BE(key, 8);
          data[21] = r.type; // scope 0: logical unit
        }
        break;
      }
      case PrIn.REPORT_CAPABILITIES: {
        data = Buffer.alloc(8);
        data.writeUInt16BE(8, 0);
        data[2] = 0x10; // CRH: RESERVE(6) from a persistent reservation holder completes with GOOD
        data[3] = 0x80; // TMV: the type mask below is valid
        data[4] = 0x80 | 0x40 | 0x20 | 0x08 | 0x02; // WR_EX_AR, EX_AC_RO, WR_EX_RO, EX_AC, WR_EX
        data[5] = 0x01; // EX_AC_AR
        break;
      }
      case PrIn.READ_FULL_STATUS: {
        const descriptors: Buffer[] = [];
        for (const [id, reg] of this.registrations) {
          const tid = transportId(reg.nexus.initiatorPortName);
          const d = Buffer.alloc(24 + tid.length);
          d.writeBigUInt64BE(reg.key, 0);
          if (this.reservation && this.isHolder(id)) {
            d[12] = 0x01; // R_HOLDER
            d[13] = this.reservation.type;
          }
          d.writeUInt16BE(1, 18); // relative target port identifier
          d.writeUInt32BE(tid.length, 20);
          tid.copy(d, 24);
          descriptors.push(d);
        }
        const body = Buffer.concat(descriptors);
        data = Buffer.alloc(8 + body.length);
        data.writeUInt32BE(this.generation, 0);
        data.writeUInt32BE(body.length, 4);
        body.copy(data, 8);
        break;
      }
      default:
        return invalidField(1, 4);
    }
    return good(data.length > alloc ? data.subarray(0, alloc) : data);
  }

  persistentOut(cdb: Buffer, params: Buffer | undefined, nexus: ItNexus): ScsiResponse {
    const sa = cdb[1] & 0x1f;
    const scope = cdb[2] >> 4;
    const type = cdb[2] & 0x0f;
    const listLength = cdb.readUInt32BE(5);
    if (sa > PrOut.REGISTER_AND_IGNORE_EXISTING_KEY) return invalidField(1, 4);
    if (listLength !== PROUT_PARAMETER_LENGTH) return parameterListLengthError();
    if (!params || params.length < PROUT_PARAMETER_LENGTH) return parameterListLengthError();
    const key = params.readBigUInt64BE(0);
    const sark = params.readBigUInt64BE(8);
    const flags = params[20];
    if (flags & 0x01) return invalidParameter(20, 0); // APTPL: registrations are not kept across power loss
    if (flags & 0x08) return invalidParameter(20, 3); // SPEC_I_PT
    const id = nexus.id;
    const own = this.registrations.get(id);

    if (sa === PrOut.REGISTER || sa === PrOut.REGISTER_AND_IGNORE_EXISTING_KEY) {
      if (sa === PrOut.REGISTER && (own ? own.key !== key : key !== 0n)) return reservationConflict();
      if (own && sark === 0n) this.unregister(id);
      else if (own) own.key = sark;
      else if (sark !== 0n) this.registrations.set(id, { key: sark, nexus });
      this.generation++;
      return GOOD;
    }

    if (!own || own.key !== key) return reservationConflict();
    const preempting = sa === PrOut.PREEMPT || sa === PrOut.PREEMPT_AND_ABORT;
    // Only logical-unit scope exists; the type matters where a reservation is made or replaced.
    if ((sa === PrOut.RESERVE || sa === PrOut.RELEASE || preempting) && scope !== 0) return invalidField(2, 7);
    if ((sa === PrOut.RESERVE || (preempting && this.reservation)) && !VALID_TYPES.has(type)) return invalidField(2, 3);

    switch (sa) {
      case PrOut.RESERVE: {
        const r = this.reservation;
        if (!r) {
          this.reservation = { holder: id, type };
          return GOOD;
        }
        return this.isHolder(id) && r.type === type ? GOOD : reservationConflict();
      }
      case PrOut.RELEASE: {
        const r = this.reservation;
        if (!r || !this.isHolder(id)) return GOOD;
        if (r.type !== type) return checkCondition(SenseKey.ILLEGAL_REQUEST, INVALID_RELEASE);
        this.releaseReservation(id);
        return GOOD;
      }
      case PrOut.CLEAR: {
        for (const other of this.registrations.keys()) if (other !== id) this.unitAttention(other, ASC.RESERVATIONS_PREEMPTED);
        this.registrations.clear();
        this.reservation = null;
        this.generation++;
        return GOOD;
      }
      case PrOut.PREEMPT:
      case PrOut.PREEMPT_AND_ABORT:
        return this.preempt(id, sark, type);
      default:
        return invalidField(1, 4);
    }
  }

  private preempt(id: string, sark: bigint, type: number): ScsiResponse {
    const r = this.reservation;
    const holderKey = r && !ALL_REGISTRANTS.has(r.type) ? this.registrations.get(r.holder)?.key : undefined;
    if (r && ALL_REGISTRANTS.has(r.type) && sark === 0n) {
      // Every other registrant loses its registration; the reservation becomes ours.
      this.removeWhere((other) => other !== id);
      this.reservation = { holder: id, type };
      this.generation++;
      return GOOD;
    }
    if (sark === 0n) return invalidParameter(8);
    if (r && holderKey === sark) {
      const typeChanged = r.type !== type;
      this.removeWhere((other, reg) => other !== id && reg.key === sark);
      this.reservation = { holder: id, type };
      if (typeChanged) {
        for (const other of this.registrations.keys()) if (other !== id) this.unitAttention(other, ASC.RESERVATIONS_RELEASED);
      }
      this.generation++;
      return GOOD;
    }
    const removed = this.removeWhere((other, reg) => other !== id && reg.key === sark);
    // Preempting one's own key is allowed and changes nothing but the generation.
    const ownKeyMatches = this.registrations.get(id)?.key === sark;
    if (removed === 0 && !ownKeyMatches) return reservationConflict();
    this.generation++;
    return GOOD;
  }

  private removeWhere(match: (id: string, reg: Registration) => boolean): number {
    let count = 0;
    for (const [other, reg] of [...this.registrations]) {
      if (!match(other, reg)) continue;
      this.registrations.delete(other);
      this.unitAttention(other, ASC.REGISTRATIONS_PREEMPTED);
      count++;
    }
    if (this.reservation && !this.registrations.has(this.reservation.holder) && !ALL_REGISTRANTS.has(this.reservation.type)) {
      this.reservation = null;
    }
    if (this.reservation && this.registrations.size === 0) this.reservation = null;
    return count;
  }

  private unregister(id: string): void {
    this.registrations.delete(id);
    const r = this.reservation;
    if (!r) return;
    if (ALL_REGISTRANTS.has(r.type)) {
      if (this.registrations.size === 0) this.reservation = null;
      else if (r.holder === id) r.holder = this.registrations.keys().next().value!;
      return;
    }
    if (r.holder === id) this.releaseReservation(id);
  }

  private releaseReservation(by: string): void {
    const r = this.reservation!;
    this.reservation = null;
    // SPC-4 5.13.11.2.2: releasing a registrants-only or all-registrants reservation tells the other registrants.
    if (REGISTRANTS_ONLY.has(r.type) || ALL_REGISTRANTS.has(r.type)) {
      for (const other of this.registrations.keys()) if (other !== by) this.unitAttention(other, ASC.RESERVATIONS_RELEASED);
    }
  }
}

/** iSCSI TransportID, format 01b: "<name>,i,0x<isid>" null-terminated, padded to four bytes (SPC-4 7.6.4.6). */
export function transportId(initiatorPortName: string): Buffer {
  const name = Buffer.from(initiatorPortName, 'utf8');
  const padded = (name.length + 1 + 3) & ~3;
  const t = Buffer.alloc(4 + padded);
  t[0] = 0x40 | 0x05;
  t.writeUInt16BE(padded, 2);
  name.copy(t, 4);
  return t;
}
