import { destination as fileDestination, pino, type DestinationStream, type Logger } from 'pino';
import { LogLevels, registerRoot, trackingChildrenIn } from './log-levels.js';

// Secrets travel in connection_info, connectors' CHAP fields, provider_auth and
// request headers; every key a log call might carry them under is censored here so
// a careless log line cannot leak one.
const SECRET_KEYS = new Set(['auth_password', 'password', 'chap', 'providerAuth', 'provider_auth', 'x-auth-token', 'x-service-token']);
const CENSOR = '***';
/** How deep into a logged object secrets are looked for: connection_info.data.auth_password is three levels down. */
const SECRET_DEPTH = 3;

function isWalkable(value: unknown): value is Record<string, unknown> | unknown[] {
  if (value === null || typeof value !== 'object') return false;
  if (Array.isArray(value)) return true;
  const proto = Object.getPrototypeOf(value) as unknown;
  return proto === Object.prototype || proto === null;
}

/**
 * `value` with every secret-named key censored, down to SECRET_DEPTH levels. An object
 * holding no secret is returned as it is, so the usual line (a request: method, URL,
 * status, time) costs a few key lookups; pino's path-based redaction ran its wildcard
 * paths over every value of every line.
 */
export function censorSecrets<T>(value: T, depth = SECRET_DEPTH): T {
  if (depth === 0 || !isWalkable(value)) return value;
  let copy: Record<string, unknown> | unknown[] | null = null;
  const entries = Array.isArray(value) ? value.entries() : Object.entries(value);
  for (const [key, inner] of entries) {
    const censored = typeof key === 'string' && SECRET_KEYS.has(key) ? CENSOR : censorSecrets(inner, depth - 1);
    if (censored === inner) continue;
    copy ??= Array.isArray(value) ? [...value] : { ...value };
    (copy as Record<string | number, unknown>)[key] = censored;
  }
  return (copy ?? value) as T;
}

/** Lines are written when this much is buffered... */
const LOG_BATCH_BYTES = 4096;
/** ...or when this many milliseconds have passed, whichever comes first. */
const LOG_FLUSH_MS = 100;

/** How long shutting down waits for the log's last lines to be written. */
const LOG_SETTLE_MS = 2000;

/**
 * Writes what the logger holds and waits, at most `withinMs`, for the write to finish or
 * fail. At exit pino writes what is left synchronously, and that write retries forever
 * when stdout's reader has gone (EPIPE): a service piped into a log shipper that died
 * would never exit. An asynchronous write meets the error first, and pino then stops
 * logging instead, so flushing this way before exiting lets the process end.
 */
export function flushLogger(logger: Logger, withinMs = LOG_SETTLE_MS): Promise<void> {
  return new Promise((resolve) => {
    const timer = setTimeout(resolve, withinMs);
    logger.flush(() => {
      clearTimeout(timer);
      resolve();
    });
  });
}

/**
 * Lines go to stdout in batches, without blocking the request that logs them: a write
 * per request line was about a tenth of the service's CPU under load. A line waits at
 * most LOG_FLUSH_MS, and whatever is still buffered is written synchronously when the
 * process exits.
 */
export function createLogger(
  level: string = process.env.CINDERBLOCK_LOG_LEVEL ?? 'info',
  destination: DestinationStream = fileDestination({ dest: 1, sync: false, minLength: LOG_BATCH_BYTES, periodicFlush: LOG_FLUSH_MS }),
): Logger {
  const levels = new LogLevels();
  const root = pino(
    {
      level,
      onChild: trackingChildrenIn(levels),
      formatters: { log: censorSecrets },
      // A child logger's bindings bypass the log formatter; pino's redaction covers their
      // top level. Paths without wildcards cost nothing on lines that lack those keys.
      redact: { paths: [...SECRET_KEYS], censor: CENSOR },
    },
    destination,
  );
  registerRoot(root, levels);
  return root;
}

export type { Logger };
