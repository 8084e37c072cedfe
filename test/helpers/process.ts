import { spawn, execFile, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import type { TestContext } from 'node:test';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort } from './env.js';

/** The compiled CLI, located from this file so tests work from any working directory. */
export const CLI_PATH = fileURLToPath(new URL('../../src/cli/main.js', import.meta.url));

/** `cinderblock ready`, or `cinderblock api service ready` for the split services. */
const READY_BANNER = /cinderblock (?:\w+ service )?ready/;
// Generous: on a loaded two-core machine a cold start (module loading, migrations) can take many seconds.
const READY_TIMEOUT_MS = 45_000;
const STOP_GRACE_MS = 5_000;
// Enough of the service's output to explain a failure without holding a whole log in memory.
const OUTPUT_KEEP = 64 * 1024;

export interface ServeProcess {
  proc: ChildProcess;
  /** stdout and stderr so far (the last 64 KiB of each), for failure messages. */
  output(): { stdout: string; stderr: string };
  /** Resolves with how the process ended; sends SIGTERM, then SIGKILL after a grace period. */
  stop(signal?: NodeJS.Signals): Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  /** Resolves when the process exits on its own. */
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

export interface StartedService extends ServeProcess {
  /** Block Storage base URL without a project, e.g. http://127.0.0.1:P/v3 */
  endpoint: string;
  /** A fresh hex project id: real Cinder only routes [0-9a-f-]+ project ids. */
  projectId: string;
  /** noauth token for the project. */
  token: string;
  apiPort: number;
  iscsiPort: number;
  dataDir: string;
}

/**
 * The child's environment: the caller's, minus any CINDERBLOCK_* settings a developer
 * may have exported (they would silently change what the test runs), plus `env`.
 */
function childEnv(env: Record<string, string>): NodeJS.ProcessEnv {
  const out: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env)) if (!k.startsWith('CINDERBLOCK_')) out[k] = v;
  return { ...out, ...env };
}

function tail(buffer: string, chunk: string): string {
  const joined = buffer + chunk;
  return joined.length > OUTPUT_KEEP ? joined.slice(joined.length - OUTPUT_KEEP) : joined;
}

// Processes spawned per test, so a scratch directory is removed only after they have stopped:
// test hooks run in registration order, and the directory usually comes first.
const spawned = new WeakMap<TestContext, Set<ServeProcess>>();

/** A temporary directory removed when the test ends, after every service it started has stopped. */
export async function scratchDir(t: TestContext, prefix = 'cinderblock-serve-'): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), prefix));
  t.after(async () => {
    for (const served of spawned.get(t) ?? []) await served.stop();
    await rm(dir, { recursive: true, force: true });
  });
  return dir;
}

/**
 * Spawns `cinderblock serve` (or `options.command`) with exactly `args` and waits for the ready banner.
 * Rejects (with the process's output) if it exits or stays silent for too long.
 * The process is stopped when the test ends.
 */
export async function spawnServe(
  t: TestContext,
  args: string[],
  env: Record<string, string> = {},
  options: { cwd?: string; command?: 'serve' | 'api' | 'volume' } = {},
): Promise<ServeProcess> {
  const command = options.command ?? 'serve';
  const proc = spawn(process.execPath, [CLI_PATH, command, ...args], {
    env: childEnv(env),
    cwd: options.cwd,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  proc.stdout!.setEncoding('utf8').on('data', (c: string) => (stdout = tail(stdout, c)));
  proc.stderr!.setEncoding('utf8').on('data', (c: string) => (stderr = tail(stderr, c)));
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    proc.once('exit', (code, signal) => resolve({ code, signal })),
  );
  const output = () => ({ stdout, stderr });

  const stop = async (signal: NodeJS.Signals = 'SIGTERM') => {
    if (proc.exitCode === null && proc.signalCode === null) {
      proc.kill(signal);
      const timer = setTimeout(() => proc.kill('SIGKILL'), STOP_GRACE_MS);
      try {
        return await exited;
      } finally {
        clearTimeout(timer);
      }
    }
    return exited;
  };
  t.after(() => stop());
  const handle: ServeProcess = { proc, output, stop, exited };
  if (!spawned.has(t)) spawned.set(t, new Set());
  spawned.get(t)!.add(handle);

  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(
      () => reject(new Error(`no ready banner within ${READY_TIMEOUT_MS} ms\n${describe(output())}`)),
      READY_TIMEOUT_MS,
    );
    const onData = () => {
      if (READY_BANNER.test(stdout)) {
        cleanup();
        resolve();
      }
    };
    const onExit = (code: number | null, signal: NodeJS.Signals | null) => {
      cleanup();
      reject(new Error(`cinderblock ${command} exited (code ${code}, signal ${signal}) before it was ready\n${describe(output())}`));
    };
    const cleanup = () => {
      clearTimeout(timer);
      proc.stdout!.off('data', onData);
      proc.off('exit', onExit);
    };
    proc.stdout!.on('data', onData);
    proc.once('exit', onExit);
    onData();
  });
  return handle;
}

/** The tail of a service's output, for assertion messages. */
export function describe(out: { stdout: string; stderr: string }): string {
  return `--- stdout ---\n${out.stdout.slice(-4000)}\n--- stderr ---\n${out.stderr.slice(-4000)}`;
}

/**
 * Starts the whole service on free loopback ports with a temporary data dir
 * (SQLite inside it unless `extraArgs` choose a database).
 */
export async function startServeProcess(
  t: TestContext,
  extraArgs: string[] = [],
  env: Record<string, string> = {},
): Promise<StartedService> {
  const dataDir = await scratchDir(t);
  // freePort releases the port before we bind it; another process may take it in
  // between, so a start that lost that race is retried on new ports.
  for (let attempt = 1; ; attempt++) {
    const apiPort = await freePort();
    const iscsiPort = await freePort();
    const args = ['--data-dir', dataDir, '--api-listen', `127.0.0.1:${apiPort}`, '--iscsi-listen', `127.0.0.1:${iscsiPort}`];
    try {
      const served = await spawnServe(t, [...args, ...extraArgs], env);
      const projectId = randomBytes(16).toString('hex');
      return {
        ...served,
        endpoint: `http://127.0.0.1:${apiPort}/v3`,
        projectId,
        token: `admin:${projectId}`,
        apiPort,
        iscsiPort,
        dataDir,
      };
    } catch (err) {
      if (attempt >= 3 || !/EADDRINUSE/.test(String(err))) throw err;
    }
  }
}

export interface RunResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Runs a command to completion (bounded by `timeoutMs`) and returns its output; never throws on a non-zero exit. */
export function run(
  file: string,
  args: string[],
  options: { env?: NodeJS.ProcessEnv; timeoutMs?: number; cwd?: string } = {},
): Promise<RunResult> {
  return new Promise((resolve, reject) => {
    const child = execFile(
      file,
      args,
      { env: options.env ?? process.env, cwd: options.cwd, timeout: options.timeoutMs ?? 30_000, maxBuffer: 16 * 1024 * 1024, encoding: 'utf8' },
      (err, stdout, stderr) => {
        if (err && typeof (err as NodeJS.ErrnoException).code === 'string') return reject(err);
        const code = err ? ((err as { code?: number }).code ?? null) : 0;
        resolve({ code: err && (err as { killed?: boolean }).killed ? null : code, stdout, stderr });
      },
    );
    // A closed stdin makes any unexpected prompt fail at once instead of hanging until the timeout.
    child.stdin!.end();
  });
}
