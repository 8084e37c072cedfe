// MODE SENSE / MODE SELECT (SPC-4 7.5) for the pages a disk is asked about: caching
// (WCE), control (SWP) and informational exceptions. Only WCE and SWP can be changed;
// nothing is saved, so the SAVED page control and the SP bit are refused.

export const ModePage = {
  CACHING: 0x08,
  CONTROL: 0x0a,
  INFORMATIONAL_EXCEPTIONS: 0x1c,
  ALL: 0x3f,
} as const;

export const PageControl = { CURRENT: 0, CHANGEABLE: 1, DEFAULT: 2, SAVED: 3 } as const;

export interface ModeState {
  /** Write cache enabled: when off, every write is made durable before GOOD. */
  wce: boolean;
  /** Software write protect for every nexus. */
  swp: boolean;
}

export const DEFAULT_MODE: Readonly<ModeState> = Object.freeze({ wce: true, swp: false });

const CACHING_LENGTH = 0x12;
const CONTROL_LENGTH = 0x0a;
const IEC_LENGTH = 0x0a;
const WCE = 0x04;
const SWP = 0x08;
/** Unrestricted reordering: commands may complete in any order, which they do. */
const QUEUE_ALGORITHM_UNRESTRICTED = 0x10;
/** DEXCPT: informational exception reporting is disabled (there is nothing to report). */
const DEXCPT = 0x08;

export const PAGE_ORDER = [ModePage.CACHING, ModePage.CONTROL, ModePage.INFORMATIONAL_EXCEPTIONS] as const;

export function modePage(code: number, pc: number, state: ModeState): Buffer | undefined {
  const values = pc === PageControl.DEFAULT ? DEFAULT_MODE : state;
  const changeable = pc === PageControl.CHANGEABLE;
  switch (code) {
    case ModePage.CACHING: {
      const p = Buffer.alloc(2 + CACHING_LENGTH);
      p[0] = code;
      p[1] = CACHING_LENGTH;
      if (changeable) p[2] = WCE;
      else if (values.wce) p[2] = WCE;
      return p;
    }
    case ModePage.CONTROL: {
      const p = Buffer.alloc(2 + CONTROL_LENGTH);
      p[0] = code;
      p[1] = CONTROL_LENGTH;
      if (changeable) {
        p[4] = SWP;
      } else {
        p[3] = QUEUE_ALGORITHM_UNRESTRICTED;
        if (values.swp) p[4] = SWP;
        p.writeUInt16BE(0xffff, 8); // busy timeout period: unlimited
      }
      return p;
    }
    case ModePage.INFORMATIONAL_EXCEPTIONS: {
      const p = Buffer.alloc(2 + IEC_LENGTH);
      p[0] = code;
      p[1] = IEC_LENGTH;
      if (!changeable) p[2] = DEXCPT;
      return p;
    }
    default:
      return undefined;
  }
}

export type SelectResult = { ok: true; state: ModeState } | { ok: false; byte: number };

/**
 * Applies the pages of a MODE SELECT parameter list (header and block descriptors
 * already skipped, `base` is their length for error offsets). A page may change only
 * changeable bits; anything else is an invalid field at the returned byte.
 */
export function selectPages(pages: Buffer, base: number, state: ModeState): SelectResult {
  const next: ModeState = { ...state };
  let off = 0;
  while (off < pages.length) {
    if (off + 2 > pages.length) return { ok: false, byte: base + off };
    const code = pages[off] & 0x3f;
    if (pages[off] & 0x40) return { ok: false, byte: base + off }; // subpage format: none are implemented
    const len = pages[off + 1];
    const page = pages.subarray(off, off + 2 + len);
    const current = modePage(code, PageControl.CURRENT, state);
    if (!current || page.length !== current.length || len !== current[1]) return { ok: false, byte: base + off };
    const mask = modePage(code, PageControl.CHANGEABLE, state)!;
    for (let i = 2; i < page.length; i++) {
      if ((page[i] & ~mask[i] & 0xff) !== (current[i] & ~mask[i] & 0xff)) return { ok: false, byte: base + off + i };
    }
    if (code === ModePage.CACHING) next.wce = (page[2] & WCE) !== 0;
    if (code === ModePage.CONTROL) next.swp = (page[4] & SWP) !== 0;
    off += 2 + len;
  }
  return { ok: true, state: next };
}
