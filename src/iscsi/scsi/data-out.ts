// Write data as the transport received it. A 1 MiB write reaches the target in a few
// dozen socket reads; keeping those pieces and handing them to one vectored file write
// spares a copy of every byte into a contiguous buffer (and that buffer's allocation).
// Commands that parse their data (parameter lists, COMPARE AND WRITE) ask for it flat.

export class DataOut {
  private flattened: Buffer | undefined;

  private constructor(
    /** In order, together exactly `length` bytes. */
    readonly parts: readonly Buffer[],
    readonly length: number,
  ) {
    if (parts.length === 1) this.flattened = parts[0];
  }

  static of(data: Buffer): DataOut {
    return new DataOut([data], data.length);
  }

  /** Pieces that follow each other, as received; none may be empty. */
  static fromParts(parts: readonly Buffer[]): DataOut {
    return new DataOut(parts, totalLength(parts));
  }

  /** One contiguous buffer: a copy only when the data arrived in pieces, made once. */
  flat(): Buffer {
    this.flattened ??= Buffer.concat(this.parts as Buffer[], this.length);
    return this.flattened;
  }

  /** The first n bytes (n <= length), without copying. */
  head(n: number): DataOut {
    if (n >= this.length) return this;
    return new DataOut(sliceParts(this.parts, 0, n), n);
  }
}

/** The bytes [from, to) of a sequence of pieces, as views of them. */
export function sliceParts(parts: readonly Buffer[], from: number, to: number): Buffer[] {
  const out: Buffer[] = [];
  let at = 0;
  for (const part of parts) {
    const end = at + part.length;
    if (end > from && at < to) out.push(part.subarray(Math.max(from - at, 0), Math.min(to, end) - at));
    if (end >= to) break;
    at = end;
  }
  return out;
}

export function totalLength(parts: readonly Buffer[]): number {
  let length = 0;
  for (const part of parts) length += part.length;
  return length;
}
