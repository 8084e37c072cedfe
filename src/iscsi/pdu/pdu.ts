// A PDU as it travels: the 48-byte Basic Header Segment, optional Additional
// Header Segments, and the (unpadded) data segment. Field accessors read the BHS
// in place so decoding costs nothing until a field is needed.

import { BHS_LENGTH, DIGEST_LENGTH, Opcode } from './constants.js';
import { crc32c } from './crc32c.js';

export interface Pdu {
  bhs: Buffer;
  /** Additional header segments, or an empty buffer. */
  ahs: Buffer;
  /** Data segment without padding or digest; empty when `parts` holds it. */
  data: Buffer;
  /** The data segment as views of the received chunks, when the session asked for it so (framer DataSink). */
  parts?: Buffer[];
}

export interface DigestSettings {
  headerDigest: boolean;
  dataDigest: boolean;
}

export const NO_DIGESTS: DigestSettings = Object.freeze({ headerDigest: false, dataDigest: false });

export const opcodeOf = (bhs: Buffer): number => bhs[0]! & 0x3f;
export const isImmediate = (bhs: Buffer): boolean => (bhs[0]! & 0x40) !== 0;
export const isFinal = (bhs: Buffer): boolean => (bhs[1]! & 0x80) !== 0;
export const ittOf = (bhs: Buffer): number => bhs.readUInt32BE(16);
export const dataSegmentLengthOf = (bhs: Buffer): number => (bhs[5]! << 16) | (bhs[6]! << 8) | bhs[7]!;
export const totalAhsBytesOf = (bhs: Buffer): number => bhs[4]! * 4;

export const padLength = (n: number): number => (4 - (n & 3)) & 3;

/** A zeroed BHS with the opcode (and immediate bit) set. */
export function newBhs(opcode: Opcode, immediate = false): Buffer {
  // allocUnsafe slices Node's shared pool: one PDU header is not worth its own ArrayBuffer.
  const bhs = Buffer.allocUnsafe(BHS_LENGTH).fill(0);
  bhs[0] = opcode | (immediate ? 0x40 : 0);
  return bhs;
}

export function setDataSegmentLength(bhs: Buffer, n: number): void {
  bhs[5] = (n >>> 16) & 0xff;
  bhs[6] = (n >>> 8) & 0xff;
  bhs[7] = n & 0xff;
}

const PAD = Buffer.alloc(4);

/**
 * Serialises a PDU into the pieces to hand to a vectored write: the header (with
 * its digest), the caller's data buffer untouched, and a small tail holding the
 * padding and data digest. The data is never copied, and without AHS or header
 * digest neither is the BHS, which the caller hands over and must not reuse.
 */
export function encodePdu(pdu: Pdu, digests: DigestSettings = NO_DIGESTS): Buffer[] {
  const { bhs, ahs, data } = pdu;
  if (ahs.length % 4 !== 0) throw new RangeError('AHS length must be a multiple of 4');
  bhs[4] = ahs.length / 4;
  setDataSegmentLength(bhs, data.length);
  const headerLength = BHS_LENGTH + ahs.length;
  let header = bhs;
  if (ahs.length || digests.headerDigest) {
    header = Buffer.allocUnsafe(headerLength + (digests.headerDigest ? DIGEST_LENGTH : 0));
    bhs.copy(header, 0);
    if (ahs.length) ahs.copy(header, BHS_LENGTH);
    if (digests.headerDigest) header.writeUInt32LE(crc32c(header, 0, 0, headerLength), headerLength);
  }
  const out: Buffer[] = [header];
  if (data.length === 0) return out;
  out.push(data);
  const pad = padLength(data.length);
  if (digests.dataDigest) {
    const tail = Buffer.alloc(pad + DIGEST_LENGTH);
    let crc = crc32c(data);
    if (pad) crc = crc32c(PAD, crc, 0, pad);
    tail.writeUInt32LE(crc, pad);
    out.push(tail);
  } else if (pad) {
    out.push(PAD.subarray(0, pad));
  }
  return out;
}
