// Splits a TCP byte stream into PDUs. Pure: it holds only the bytes it was given,
// so it is tested by cutting hand-made streams at every byte boundary. A PDU that
// arrived inside one chunk is returned as views of that chunk (no copy); one that
// straddles chunks is assembled with a single copy, unless the session takes its data
// segment as the pieces it arrived in (see DataSink).

import { BHS_LENGTH, DIGEST_LENGTH } from './constants.js';
import { crc32c } from './crc32c.js';
import { dataSegmentLengthOf, padLength, totalAhsBytesOf, type DigestSettings, type Pdu } from './pdu.js';

const EMPTY = Buffer.alloc(0);

export class FramingError extends Error {
  constructor(
    message: string,
    /** The offending header when it could be read, for a Reject PDU. */
    readonly bhs?: Buffer,
    /** The header was intact: the stream is still in sync and the PDU can be rejected and skipped. */
    readonly recoverable = false,
  ) {
    super(message);
    this.name = 'FramingError';
  }
}

export interface FramerOptions extends DigestSettings {
  /** Largest data segment accepted (our declared MaxRecvDataSegmentLength). */
  maxDataSegmentLength: number;
}

/**
 * Whether the session takes this PDU's data segment as views of the chunks it arrived
 * in (Pdu.parts) rather than assembled. Write data is headed for one vectored file
 * write, which can take the pieces as they are.
 */
export type DataSink = (bhs: Buffer, dataLength: number) => boolean;

export class PduFramer {
  /** Digest and size settings may change between PDUs (they switch on after login). */
  options: FramerOptions;
  dataSink: DataSink | undefined;
  private chunks: Buffer[] = [];
  private head = 0; // read offset into chunks[0]
  private buffered = 0;

  constructor(options: FramerOptions) {
    this.options = { ...options };
  }

  push(chunk: Buffer): void {
    if (chunk.length === 0) return;
    this.chunks.push(chunk);
    this.buffered += chunk.length;
  }

  /** Bytes received but not yet returned as PDUs. */
  get pending(): number {
    return this.buffered;
  }

  /**
   * The next complete PDU, or null when more bytes are needed. Throws FramingError on
   * a header digest mismatch or an oversize data segment; the connection is then
   * unusable, as the RFC leaves no way to resynchronise at ErrorRecoveryLevel 0.
   */
  next(): Pdu | null {
    if (this.buffered < BHS_LENGTH) return null;
    const { headerDigest, dataDigest, maxDataSegmentLength } = this.options;
    const first = this.chunks[0]!;
    const bhsPeek =
      first.length - this.head >= BHS_LENGTH ? first.subarray(this.head, this.head + BHS_LENGTH) : this.copyOut(BHS_LENGTH);
    const ahsLength = totalAhsBytesOf(bhsPeek);
    const dataLength = dataSegmentLengthOf(bhsPeek);
    const headerLength = BHS_LENGTH + ahsLength;
    const hd = headerDigest ? DIGEST_LENGTH : 0;
    if (dataLength > maxDataSegmentLength) {
      throw new FramingError(
        `data segment of ${dataLength} bytes exceeds MaxRecvDataSegmentLength ${maxDataSegmentLength}`,
        Buffer.from(bhsPeek),
      );
    }
    const dataStart = headerLength + hd;
    const total = dataStart + (dataLength ? dataLength + padLength(dataLength) + (dataDigest ? DIGEST_LENGTH : 0) : 0);
    if (this.buffered < total) return null;

    // Only worth it when the PDU straddles chunks (otherwise it is a free view), and
    // only without a data digest, which is checked over the assembled bytes.
    if (this.dataSink && dataLength && !dataDigest && first.length - this.head < total && this.dataSink(bhsPeek, dataLength)) {
      const header = this.take(dataStart);
      if (headerDigest && crc32c(header, 0, 0, headerLength) !== header.readUInt32LE(headerLength)) {
        throw new FramingError('header digest mismatch');
      }
      const parts = this.takeViews(dataLength);
      this.take(total - dataStart - dataLength);
      return { bhs: header.subarray(0, BHS_LENGTH), ahs: header.subarray(BHS_LENGTH, headerLength), data: EMPTY, parts };
    }

    const pduBytes = this.take(total);
    if (headerDigest) {
      const expected = pduBytes.readUInt32LE(headerLength);
      if (crc32c(pduBytes, 0, 0, headerLength) !== expected) throw new FramingError('header digest mismatch');
    }
    const bhs = pduBytes.subarray(0, BHS_LENGTH);
    const data = pduBytes.subarray(dataStart, dataStart + dataLength);
    if (dataDigest && dataLength) {
      const digestAt = dataStart + dataLength + padLength(dataLength);
      if (crc32c(pduBytes, 0, dataStart, digestAt) !== pduBytes.readUInt32LE(digestAt)) {
        throw new FramingError('data digest mismatch', Buffer.from(bhs), true);
      }
    }
    return { bhs, ahs: pduBytes.subarray(BHS_LENGTH, headerLength), data };
  }

  /** Copies the first n buffered bytes without consuming them. */
  private copyOut(n: number): Buffer {
    const out = Buffer.allocUnsafe(n);
    let filled = 0;
    let offset = this.head;
    for (const chunk of this.chunks) {
      const len = Math.min(chunk.length - offset, n - filled);
      chunk.copy(out, filled, offset, offset + len);
      filled += len;
      offset = 0;
      if (filled === n) break;
    }
    return out;
  }

  /** Consumes n bytes as views of the chunks that hold them. */
  private takeViews(n: number): Buffer[] {
    const views: Buffer[] = [];
    let taken = 0;
    while (taken < n) {
      const chunk = this.chunks[0]!;
      const len = Math.min(chunk.length - this.head, n - taken);
      views.push(chunk.subarray(this.head, this.head + len));
      taken += len;
      this.head += len;
      if (this.head === chunk.length) {
        this.chunks.shift();
        this.head = 0;
      }
    }
    this.buffered -= n;
    return views;
  }

  /** Consumes n bytes: a view when they lie in one chunk, one copy otherwise. */
  private take(n: number): Buffer {
    if (n === 0) return EMPTY;
    const views = this.takeViews(n);
    return views.length === 1 ? views[0]! : Buffer.concat(views, n);
  }
}
