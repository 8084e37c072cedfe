import { createHash } from 'node:crypto';

// Validations of caller tokens, kept under a hash of the token (so a heap dump or a debug
// print of the cache shows no usable token) until the earlier of the cache time and the
// token's own expiry. A token's validity never changes except by revocation, so the one
// risk of caching is a revoked token honoured for up to the cache time, as keystonemiddleware
// does. The cache is bounded: garbage tokens sent to fill it push out the oldest entries.

interface Entry<T> {
  value: T;
  /** ms since the epoch */
  until: number;
}

export class TokenCache<T> {
  private readonly entries = new Map<string, Entry<T>>();
  private readonly inFlight = new Map<string, Promise<T>>();

  constructor(
    private readonly maxEntries: number,
    private readonly now: () => number = Date.now,
  ) {}

  static keyOf(token: string): string {
    return createHash('sha256').update(token).digest('base64');
  }

  /** The cached value, synchronously, or undefined when absent or stale. */
  get(key: string): T | undefined {
    const entry = this.entries.get(key);
    if (!entry) return undefined;
    if (entry.until <= this.now()) {
      this.entries.delete(key);
      return undefined;
    }
    return entry.value;
  }

  /**
   * The value for `key`, loaded once however many callers ask while it loads. `load`
   * resolves to the value and until when it may be kept (ms since the epoch); a failed
   * load is not cached, so the next caller tries again.
   */
  resolve(key: string, load: () => Promise<{ value: T; until: number }>): Promise<T> {
    const pending = this.inFlight.get(key);
    if (pending) return pending;
    const loading = load().then(
      ({ value, until }) => {
        this.inFlight.delete(key);
        this.set(key, value, until);
        return value;
      },
      (err: unknown) => {
        this.inFlight.delete(key);
        throw err;
      },
    );
    this.inFlight.set(key, loading);
    return loading;
  }

  private set(key: string, value: T, until: number): void {
    if (until <= this.now()) return;
    this.entries.delete(key);
    if (this.entries.size >= this.maxEntries) {
      // Maps iterate in insertion order: the first key is the oldest.
      const oldest = this.entries.keys().next();
      if (!oldest.done) this.entries.delete(oldest.value);
    }
    this.entries.set(key, { value, until });
  }

  get size(): number {
    return this.entries.size;
  }
}
