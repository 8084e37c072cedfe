import { execFile } from 'node:child_process';

/**
 * Runs tgtadm against one tgtd instance (its private control port) without a shell.
 * tgtadm takes CHAP passwords on its command line, so every message built from a
 * command is redacted before it can reach a log line or an error.
 */

export const TGTADM_TIMEOUT_MS = 10_000;

/** tgtadm exits 22 for most refusals; only the text on stderr tells them apart. */
export type TgtadmFailure =
  | 'target-not-found'
  | 'target-exists'
  | 'lun-not-found'
  | 'lun-exists'
  | 'lun-busy'
  | 'account-not-found'
  | 'account-exists'
  | 'acl-exists'
  | 'acl-not-found'
  | 'binding-not-found'
  | 'binding-exists'
  | 'session-not-found'
  | 'connection-not-found'
  | 'target-busy'
  | 'invalid-request'
  | 'unreachable'
  | 'timeout'
  | 'other';

const FAILURE_TEXT: [string, TgtadmFailure][] = [
  ["can't find the target", 'target-not-found'],
  ['this target already exists', 'target-exists'],
  ["can't find the logical unit", 'lun-not-found'],
  ['this logical unit number already exists', 'lun-exists'],
  ['this logical unit is still active', 'lun-busy'],
  ["can't find the account", 'account-not-found'],
  ['this account already exists', 'account-exists'],
  ['this access control rule already exists', 'acl-exists'],
  ['this access control rule does not exist', 'acl-not-found'],
  ["can't find the binding", 'binding-not-found'],
  ['this binding already exists', 'binding-exists'],
  ["can't find the session", 'session-not-found'],
  ["can't find the connection", 'connection-not-found'],
  ['this target is still active', 'target-busy'],
  ['invalid request', 'invalid-request'],
  // With no daemon on the socket tgtadm reports the failed send, not the failed connect;
  // a daemon that dies mid-request leaves "can't get the response".
  ["can't connect to tgt daemon", 'unreachable'],
  ['failed to send request hdr to tgt daemon', 'unreachable'],
  ['failed to send request buf to tgt daemon', 'unreachable'],
  ["can't get the response", 'unreachable'],
  ['failed to read from tgtd', 'unreachable'],
];

export function classifyFailure(stderr: string): TgtadmFailure {
  for (const [text, failure] of FAILURE_TEXT) if (stderr.includes(text)) return failure;
  return 'other';
}

/** Arguments that carry a secret as their next argument. */
const SECRET_FLAGS = new Set(['--password', '-p']);

export function redactArgs(args: readonly string[]): string[] {
  return args.map((arg, i) => (i > 0 && SECRET_FLAGS.has(args[i - 1]!) ? '***' : arg));
}

/** Removes every secret that appears in argv from free text (stderr may echo its input). */
export function redactText(text: string, args: readonly string[]): string {
  let out = text;
  args.forEach((arg, i) => {
    if (i > 0 && SECRET_FLAGS.has(args[i - 1]!) && arg.length > 0) out = out.split(arg).join('***');
  });
  return out;
}

export class TgtadmError extends Error {
  constructor(
    readonly failure: TgtadmFailure,
    /** The command line with secrets replaced by ***. */
    readonly command: string,
    readonly detail: string,
  ) {
    super(`${command} failed: ${detail}`);
    this.name = 'TgtadmError';
  }
}

export interface TgtadmOptions {
  binary?: string;
  controlPort: number;
  timeoutMs?: number;
}

export class Tgtadm {
  readonly binary: string;
  readonly controlPort: number;
  readonly timeoutMs: number;

  constructor(options: TgtadmOptions) {
    this.binary = options.binary ?? 'tgtadm';
    this.controlPort = options.controlPort;
    this.timeoutMs = options.timeoutMs ?? TGTADM_TIMEOUT_MS;
  }

  /** Runs `tgtadm -C N ARGS...` and resolves with stdout. */
  run(args: readonly string[]): Promise<string> {
    const argv = ['-C', String(this.controlPort), ...args];
    return new Promise((resolve, reject) => {
      execFile(
        this.binary,
        argv,
        { timeout: this.timeoutMs, killSignal: 'SIGKILL', maxBuffer: 16 * 1024 * 1024, encoding: 'utf8' },
        (error, stdout, stderr) => {
          if (!error) return resolve(stdout);
          const command = [this.binary, ...redactArgs(argv)].join(' ');
          const timedOut = error.killed === true || error.signal === 'SIGKILL';
          // error.message repeats the whole command line, password included, so it is never used.
          const text = redactText(stderr.trim() || (typeof error.code === 'string' ? error.code : 'no output'), argv);
          const failure: TgtadmFailure = timedOut ? 'timeout' : classifyFailure(stderr);
          const detail = timedOut ? `no answer within ${this.timeoutMs} ms` : `${text} (exit ${String(error.code)})`;
          reject(new TgtadmError(failure, command, detail));
        },
      );
    });
  }

  /** Runs a command whose listed failures mean "already in the wanted state". */
  async runTolerating(args: readonly string[], ...tolerated: TgtadmFailure[]): Promise<boolean> {
    try {
      await this.run(args);
      return true;
    } catch (err) {
      if (err instanceof TgtadmError && tolerated.includes(err.failure)) return false;
      throw err;
    }
  }
}
