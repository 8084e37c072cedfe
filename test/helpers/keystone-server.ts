// Runs Debian's Keystone (22, Zed) from a private state directory: its configuration,
// keystone-manage, and uwsgi serving it on loopback. Nothing under /etc/keystone is read.
//
// A state directory holds:
//   etc/keystone.conf, etc/policy.d/ (empty)   written by writeKeystoneConf for each run
//   keystone.db                                SQLite, in WAL mode
//   fernet-keys/, credential-keys/             made by keystone-manage
//   log/                                       keystone.log, uwsgi.log, manage.log
import { spawn, type ChildProcess } from 'node:child_process';
import { appendFile, mkdir, readFile, writeFile } from 'node:fs/promises';
import { userInfo } from 'node:os';
import { join } from 'node:path';
import { freePort } from './env.js';
import { run } from './process.js';

/** Everything the harness runs; requireTool checks them before a test starts a Keystone. */
export const KEYSTONE_TOOLS = [
  '/usr/bin/keystone-manage',
  '/usr/bin/keystone-wsgi-public',
  '/usr/bin/uwsgi',
  '/usr/lib/uwsgi/plugins/python3_plugin.so',
  '/usr/bin/setpriv',
  '/usr/bin/timeout',
] as const;

/** Caps a Keystone's life even if every other way of stopping it failed. */
const LIFETIME_CAP_S = 30 * 60;
// Importing Keystone takes ~3 s on an idle machine; a loaded two-core one can take many times that.
const READY_TIMEOUT_MS = 60_000;
const STOP_GRACE_MS = 10_000;
const MANAGE_TIMEOUT_MS = 180_000;

export interface KeystoneConfOptions {
  port: number;
  tokenExpirationSeconds: number;
}

export function keystoneUrl(port: number): string {
  return `http://127.0.0.1:${port}/v3`;
}

/**
 * The catalog's identity endpoints are stored as `%(public_endpoint)sv3`, which Keystone
 * fills in from this configuration, so a copy of a state directory serves a catalog that
 * points at its own port without touching the database.
 */
export const IDENTITY_ENDPOINT_TEMPLATE = '%(public_endpoint)sv3';

export async function writeKeystoneConf(stateDir: string, options: KeystoneConfOptions): Promise<void> {
  await mkdir(join(stateDir, 'etc', 'policy.d'), { recursive: true });
  await mkdir(join(stateDir, 'log'), { recursive: true });
  const conf = `[DEFAULT]
public_endpoint = http://127.0.0.1:${options.port}/
log_dir = ${join(stateDir, 'log')}
log_file = keystone.log
[database]
connection = sqlite:///${join(stateDir, 'keystone.db')}
[fernet_tokens]
key_repository = ${join(stateDir, 'fernet-keys')}
[fernet_receipts]
key_repository = ${join(stateDir, 'fernet-keys')}
[credential]
key_repository = ${join(stateDir, 'credential-keys')}
[token]
provider = fernet
expiration = ${options.tokenExpirationSeconds}
[identity]
# bcrypt's default cost (12) makes every password auth take ~250 ms.
password_hash_rounds = 4
[oslo_policy]
# An empty private directory keeps Debian's /etc/keystone/policy.d out: policy-in-code defaults.
policy_file = ${join(stateDir, 'etc', 'policy.yaml')}
policy_dirs = ${join(stateDir, 'etc', 'policy.d')}
`;
  await writeFile(join(stateDir, 'etc', 'keystone.conf'), conf);
}

/**
 * Runs `keystone-manage <args>` on the state directory; a failure carries the tail of its output.
 * `env` is added to a minimal environment (secrets go there, not on the command line).
 */
export async function keystoneManage(stateDir: string, args: string[], env: Record<string, string> = {}): Promise<void> {
  const conf = join(stateDir, 'etc', 'keystone.conf');
  // setpriv: a test process that dies mid-build takes keystone-manage with it.
  const command = ['--pdeathsig', 'KILL', '--', '/usr/bin/keystone-manage', '--config-file', conf, ...args];
  const result = await run('/usr/bin/setpriv', command, {
    env: { PATH: process.env.PATH ?? '/usr/bin:/bin', ...env },
    timeoutMs: MANAGE_TIMEOUT_MS,
  });
  await appendFile(join(stateDir, 'log', 'manage.log'), `$ keystone-manage ${args[0]}\n${result.stdout}${result.stderr}`);
  if (result.code !== 0) {
    throw new Error(`keystone-manage ${args[0]} exited with ${result.code ?? 'a timeout'}:\n${(result.stdout + result.stderr).slice(-2000)}`);
  }
}

/** Owner arguments for fernet_setup and credential_setup, which insist on them when run as root. */
export function keyOwnerArgs(): string[] {
  const { uid, gid } = userInfo();
  return ['--keystone-user', String(uid), '--keystone-group', String(gid)];
}

class PortInUseError extends Error {}

export interface KeystoneServer {
  /** SIGTERM to the whole process group, SIGKILL after a grace period; resolves once it is gone. */
  stop(): Promise<void>;
}

/**
 * Serves the state directory with uwsgi on 127.0.0.1:`port` and resolves once Keystone answers.
 *
 * The process tree cannot outlive the test process: setpriv asks the kernel to send SIGTERM
 * when the parent dies (even by SIGKILL, when no cleanup hook runs), timeout passes it on to
 * uwsgi and also ends it after LIFETIME_CAP_S, and --no-orphans takes the workers down with
 * the uwsgi master.
 */
export async function serveKeystone(stateDir: string, port: number): Promise<KeystoneServer> {
  const uwsgiLog = join(stateDir, 'log', 'uwsgi.log');
  await writeFile(uwsgiLog, '');
  const uwsgi = [
    '/usr/bin/uwsgi',
    '--http-socket', `127.0.0.1:${port}`,
    // uwsgi's http-socket closes every connection but does not say so; clients that reuse
    // connections (undici, requests) then fail on their next request with ECONNRESET.
    '--add-header', 'Connection: close',
    '--plugin', 'python3',
    '--wsgi-file', '/usr/bin/keystone-wsgi-public',
    // One worker: with two, concurrent writes make SQLite answer BUSY and Keystone 500.
    '--master', '--lazy-apps', '--processes', '1', '--threads', '1',
    '--die-on-term', '--no-orphans', '--need-app', '--buffer-size', '65535',
    '--logto', uwsgiLog,
  ];
  const child = spawn(
    '/usr/bin/setpriv',
    ['--pdeathsig', 'TERM', '--', '/usr/bin/timeout', '--kill-after=10', String(LIFETIME_CAP_S), ...uwsgi],
    {
      cwd: stateDir,
      // Its own process group, so stop() reaches the uwsgi workers too.
      detached: true,
      stdio: 'ignore',
      env: { PATH: process.env.PATH ?? '/usr/bin:/bin', OS_KEYSTONE_CONFIG_DIR: join(stateDir, 'etc') },
    },
  );
  let spawnError: Error | undefined;
  const exited = new Promise<void>((resolve) => {
    child.once('exit', () => resolve());
    child.once('error', (err) => {
      spawnError = err;
      resolve();
    });
  });
  const server: KeystoneServer = { stop: () => stopGroup(child, exited) };
  try {
    await waitUntilAnswering(port, child, exited, uwsgiLog);
  } catch (err) {
    await server.stop();
    throw spawnError ?? err;
  }
  return server;
}

/**
 * Writes the configuration for a free port and serves it there. freePort releases the port
 * before uwsgi binds it, so a start that lost it to another process is retried on a new one.
 */
export async function serveOnFreePort(
  stateDir: string,
  tokenExpirationSeconds: number,
): Promise<{ server: KeystoneServer; port: number }> {
  for (let attempt = 1; ; attempt++) {
    const port = await freePort();
    await writeKeystoneConf(stateDir, { port, tokenExpirationSeconds });
    try {
      return { server: await serveKeystone(stateDir, port), port };
    } catch (err) {
      if (attempt >= 3 || !(err instanceof PortInUseError)) throw err;
    }
  }
}

async function stopGroup(child: ChildProcess, exited: Promise<void>): Promise<void> {
  // No pid: setpriv never started, so there is nothing to stop.
  if (child.pid === undefined || child.exitCode !== null || child.signalCode !== null) return;
  // The group is signalled only while its leader is unreaped, so its id cannot have been reused.
  const signalGroup = (signal: NodeJS.Signals) => {
    try {
      process.kill(-child.pid!, signal);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ESRCH') throw err;
    }
  };
  signalGroup('SIGTERM');
  const timer = setTimeout(() => signalGroup('SIGKILL'), STOP_GRACE_MS);
  try {
    await exited;
  } finally {
    clearTimeout(timer);
  }
}

async function waitUntilAnswering(port: number, child: ChildProcess, exited: Promise<void>, uwsgiLog: string): Promise<void> {
  const url = keystoneUrl(port);
  const deadline = Date.now() + READY_TIMEOUT_MS;
  let gone = false;
  void exited.then(() => (gone = true));
  for (;;) {
    const log = await readFile(uwsgiLog, 'utf8');
    if (gone) {
      if (/Address already in use/.test(log)) throw new PortInUseError(`port ${port} is already in use`);
      throw new Error(`Keystone (uwsgi) exited with ${child.exitCode ?? child.signalCode} before answering on ${url}:\n${log.slice(-3000)}`);
    }
    // An answer counts only once this uwsgi holds the port: whoever took it first would answer too.
    if (log.includes(`bound to TCP address 127.0.0.1:${port} `)) {
      try {
        const res = await fetch(url, { signal: AbortSignal.timeout(5_000) });
        await res.arrayBuffer();
        if (res.ok) return;
      } catch {
        // The worker is still importing Keystone.
      }
    }
    if (Date.now() > deadline) throw new Error(`Keystone did not answer on ${url} within ${READY_TIMEOUT_MS} ms:\n${log.slice(-3000)}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}
