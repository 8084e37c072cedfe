import type { Logger } from 'pino';

/** The levels an operator may set (Cinder's LOG_LEVELS), as pino calls them. */
const SETTABLE: Readonly<Record<string, string>> = { INFO: 'info', WARNING: 'warn', ERROR: 'error', DEBUG: 'debug' };

/** pino's levels under the names Python's logging reports them by. */
const REPORTED: Readonly<Record<string, string>> = {
  trace: 'TRACE',
  debug: 'DEBUG',
  info: 'INFO',
  warn: 'WARNING',
  error: 'ERROR',
  fatal: 'CRITICAL',
  silent: 'OFF',
};

/** Cinder's get_log_method: the level named (in any case), or null when Cinder would refuse it. */
export function settableLevel(name: string): string | null {
  return SETTABLE[name.toUpperCase()] ?? null;
}

/**
 * The loggers of one process by the component they log under, which is the name an
 * operator gives as `prefix` to read or change their level while the process runs, as
 * Cinder's set-log and get-log do with Python's named loggers. Every child of the root
 * reports in here (pino's onChild), a child of a child under its parent's component, so
 * a level set for a name reaches every logger writing under it, including those made
 * later, and the level reported is the one the loggers hold.
 */
export class LogLevels {
  private readonly loggers = new Map<string, Set<WeakRef<Logger>>>();
  private readonly chosen = new Map<string, string>();

  track(logger: Logger): void {
    const name = logger.bindings().component;
    if (typeof name !== 'string' || name === '') return;
    const chosen = this.chosen.get(name);
    if (chosen !== undefined) logger.level = chosen;
    let named = this.loggers.get(name);
    if (!named) this.loggers.set(name, (named = new Set()));
    named.add(new WeakRef(logger));
  }

  /** `cinderLevel` is one settableLevel accepts. */
  set(prefix: string, cinderLevel: string): void {
    const level = settableLevel(cinderLevel);
    if (level === null) throw new Error(`${cinderLevel} is not a level that can be set`);
    for (const [name, loggers] of this.matching(prefix)) {
      this.chosen.set(name, level);
      for (const logger of loggers) logger.level = level;
    }
  }

  /** Each name starting with `prefix` and the level its loggers write at. */
  get(prefix: string): Record<string, string> {
    const levels: Record<string, string> = {};
    for (const [name, loggers] of this.matching(prefix)) {
      const level = loggers[0]!.level;
      levels[name] = REPORTED[level] ?? level.toUpperCase();
    }
    return levels;
  }

  /** The names starting with `prefix` that still have a logger, with those loggers. */
  private matching(prefix: string): Array<[string, Logger[]]> {
    const found: Array<[string, Logger[]]> = [];
    for (const [name, refs] of [...this.loggers].sort(([a], [b]) => a.localeCompare(b))) {
      const alive: Logger[] = [];
      for (const ref of refs) {
        const logger = ref.deref();
        if (logger) alive.push(logger);
        else refs.delete(ref);
      }
      if (alive.length === 0) this.loggers.delete(name);
      else if (name.startsWith(prefix)) found.push([name, alive]);
    }
    return found;
  }
}

const REGISTRIES = new WeakMap<Logger, LogLevels>();

/** The registry of the process `logger` belongs to: one made by createLogger. */
export function logLevelsOf(logger: Logger): LogLevels {
  const levels = REGISTRIES.get(logger);
  if (!levels) throw new Error('this logger was not made by createLogger: its levels cannot be changed at run time');
  return levels;
}

/** pino's onChild for a new root: its children join `levels`, and are found from each other. */
export function trackingChildrenIn(levels: LogLevels): (child: Logger) => void {
  return (child) => {
    REGISTRIES.set(child, levels);
    levels.track(child);
  };
}

export function registerRoot(root: Logger, levels: LogLevels): void {
  REGISTRIES.set(root, levels);
}
