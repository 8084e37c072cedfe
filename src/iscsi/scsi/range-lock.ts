// Orders commands that change overlapping block ranges. Each holder waits for every
// earlier holder whose range overlaps its own, so overlapping writers run in arrival
// order and COMPARE AND WRITE sees no other write land between its read and its
// write. Disjoint ranges never wait for each other.

interface Holder {
  readonly start: number;
  readonly end: number;
  readonly released: Promise<void>;
}

export class RangeLock {
  private readonly holders = new Set<Holder>();

  /** Locks blocks [start, end); resolves to the function that unlocks them. */
  async acquire(start: number, end: number): Promise<() => void> {
    const earlier: Promise<void>[] = [];
    for (const h of this.holders) if (h.start < end && start < h.end) earlier.push(h.released);
    let unlock!: () => void;
    const holder: Holder = { start, end, released: new Promise<void>((resolve) => (unlock = resolve)) };
    this.holders.add(holder);
    if (earlier.length > 0) await Promise.all(earlier);
    return () => {
      this.holders.delete(holder);
      unlock();
    };
  }

  /** Whether a holder, running or waiting, covers any of blocks [start, end). */
  overlaps(start: number, end: number): boolean {
    for (const h of this.holders) if (h.start < end && start < h.end) return true;
    return false;
  }

  get size(): number {
    return this.holders.size;
  }
}
