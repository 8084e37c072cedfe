// 32-bit serial number arithmetic (RFC 1982), as CmdSN, StatSN and DataSN use it.

export const snAdd = (a: number, n: number): number => (a + n) >>> 0;

/** a < b in serial arithmetic. */
export function snLessThan(a: number, b: number): boolean {
  return a !== b && ((b - a) >>> 0) < 0x80000000;
}

/** lo <= x <= hi in serial arithmetic (hi may be lo - 1: an empty window). */
export function snInWindow(x: number, lo: number, hi: number): boolean {
  return ((x - lo) >>> 0) <= ((hi - lo) >>> 0) && ((hi - lo) >>> 0) < 0x80000000;
}
