/** Runs work on one key at a time; what the workflow needs of a per-volume lock. */
export interface KeyedLocks {
  run<T>(key: string, work: () => Promise<T>): Promise<T>;
}

/**
 * Serialises work per key inside one process (Cinder's per-volume locks). It never
 * replaces the database's conditional updates, which decide races between processes;
 * it keeps multi-step sequences on one volume (export, grant, revoke) from interleaving.
 */
export class KeyedLock implements KeyedLocks {
  private readonly tails = new Map<string, Promise<void>>();

  async run<T>(key: string, work: () => Promise<T>): Promise<T> {
    const previous = this.tails.get(key);
    let release!: () => void;
    const current = new Promise<void>((resolve) => (release = resolve));
    const tail = previous ? previous.then(() => current) : current;
    this.tails.set(key, tail);
    // Nobody holds the key (the usual case): the work starts without waiting a turn.
    if (previous) await previous;
    try {
      return await work();
    } finally {
      release();
      if (this.tails.get(key) === tail) this.tails.delete(key);
    }
  }
}
