import { spawn, type ChildProcess } from 'node:child_process';
import { openSync, closeSync, readFileSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import type { Logger } from 'pino';
import { Tgtadm, TgtadmError } from './tgtadm.js';
import { parsePortals, parseTargets } from './show.js';

/**
 * tgtd numbers its management socket /var/run/tgtd/socket.N with 0 <= N <= 32767.
 * 0 is the distribution's default (a Cinder host's own tgtd), so it is never used.
 * N is derived from the iSCSI portal (FNV-1a of "host:port", mapped onto 1..32767):
 * the same portal always finds the same socket again, which is how a restarted
 * service finds and clears a tgtd left behind by a crash, and two services on one
 * machine (which must differ in portal) get different sockets. A hash collision is
 * resolved by probing the next numbers (see TgtdDaemon.claimControlPort).
 */
export const MAX_CONTROL_PORT = 32767;

export function controlPortFor(portal: string): number {
  let hash = 0x811c9dc5;
  for (const byte of Buffer.from(portal, 'utf8')) {
    hash ^= byte;
    hash = Math.imul(hash, 0x01000193) >>> 0;
  }
  return (hash % MAX_CONTROL_PORT) + 1;
}

function nextControlPort(port: number): number {
  return port >= MAX_CONTROL_PORT ? 1 : port + 1;
}

const CONTROL_PORT_PROBES = 16;
const READY_TIMEOUT_MS = 10_000;
const EXIT_WAIT_MS = 3_000;
/** Restart delays after unexpected deaths; the last one repeats. */
const RESTART_BACKOFF_MS = [200, 500, 1_000, 2_000, 5_000];
/** A tgtd that stayed up this long is healthy again: the backoff starts over. */
const STABLE_AFTER_MS = 30_000;

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

function splitHostPort(portal: string): { host: string; port: number } {
  const m = /^\[?([^\]]*)\]?:(\d+)$/.exec(portal);
  if (!m) throw new Error(`portal "${portal}" is not host:port`);
  return { host: m[1]!, port: Number(m[2]) };
}

/** true, or the reason the portal cannot be listened on. */
function canListen(portal: string): Promise<true | string> {
  const { host, port } = splitHostPort(portal);
  return new Promise((resolve) => {
    const server = createServer();
    server.once('error', (err) => resolve(err.message));
    server.listen({ host, port, exclusive: true }, () => server.close(() => resolve(true)));
  });
}

async function assertCanListen(portal: string): Promise<void> {
  const answer = await canListen(portal);
  if (answer !== true) throw new Error(`cannot serve iSCSI on ${portal}: ${answer}`);
}

export interface TgtdDaemonOptions {
  portal: string;
  logPath: string;
  logger: Logger;
  tgtdBinary?: string;
  tgtadmBinary?: string;
  /** Rebuilds every export on a freshly restarted tgtd; operations wait for it. */
  onRestarted: (tgtadm: Tgtadm) => Promise<void>;
}

/** Runs one private tgtd, restarts it when it dies, and stops it for good (it ignores SIGTERM). */
export class TgtdDaemon {
  private child: ChildProcess | undefined;
  private exited: Promise<void> = Promise.resolve();
  private stopping = false;
  /** Deaths are restarted only once a start has succeeded; a failed start just fails. */
  private supervising = false;
  private restarts = 0;
  private startedAt = 0;
  private restarting = false;
  private readyPromise: Promise<void> = Promise.reject(new Error('tgtd is not started'));
  private tgtadmClient: Tgtadm | undefined;

  constructor(private readonly options: TgtdDaemonOptions) {
    this.readyPromise.catch(() => undefined);
  }

  get tgtadm(): Tgtadm {
    if (!this.tgtadmClient) throw new Error('tgtd is not started');
    return this.tgtadmClient;
  }

  get pid(): number | undefined {
    return this.child?.pid;
  }

  /** Resolves when tgtd answers and, after a restart, once its exports are rebuilt. */
  ready(): Promise<void> {
    return this.readyPromise;
  }

  async start(): Promise<void> {
    this.stopping = false;
    this.tgtadmClient = await this.claimControlPort();
    this.options.logger.info(
      { controlPort: this.tgtadm.controlPort, portal: this.options.portal, log: this.options.logPath },
      `tgtd control port ${this.tgtadm.controlPort} (tgtadm -C ${this.tgtadm.controlPort})`,
    );
    this.readyPromise = this.spawnAndWait();
    await this.readyPromise;
    this.supervising = true;
  }

  async stop(): Promise<void> {
    this.stopping = true;
    this.supervising = false;
    await this.readyPromise.catch(() => undefined);
    const child = this.child;
    if (child && child.exitCode === null && child.signalCode === null) {
      await this.shutDown(this.tgtadm).catch((err: unknown) =>
        this.options.logger.warn({ err }, 'orderly tgtd shutdown failed; killing it'),
      );
      if (!(await this.waitExit(EXIT_WAIT_MS))) {
        child.kill('SIGKILL');
        if (!(await this.waitExit(EXIT_WAIT_MS))) throw new Error(`tgtd (pid ${child.pid}) survived SIGKILL`);
      }
    }
    this.removeSocketFiles();
    this.readyPromise = Promise.reject(new Error('tgtd is stopped'));
    this.readyPromise.catch(() => undefined);
  }

  /**
   * Finds a control socket that is free or held by a tgtd serving our own portal (left
   * behind when a previous run was killed); that one is emptied and told to exit.
   */
  private async claimControlPort(): Promise<Tgtadm> {
    let port = controlPortFor(this.options.portal);
    for (let probe = 0; probe < CONTROL_PORT_PROBES; probe++, port = nextControlPort(port)) {
      const tgtadm = new Tgtadm({ controlPort: port, binary: this.options.tgtadmBinary });
      let portals: string[];
      try {
        portals = parsePortals(await tgtadm.run(['--lld', 'iscsi', '--mode', 'portal', '--op', 'show']));
      } catch (err) {
        if (err instanceof TgtadmError && err.failure === 'unreachable') return tgtadm;
        throw err;
      }
      if (!portals.includes(this.options.portal)) continue;
      this.options.logger.warn({ controlPort: port }, 'clearing a tgtd left behind by an earlier run on this portal');
      await this.shutDown(tgtadm);
      // Gone means both sockets released: tgtd closes its control socket before its portal.
      const deadline = Date.now() + EXIT_WAIT_MS;
      while (Date.now() < deadline) {
        const answers = await tgtadm.runTolerating(['--mode', 'system', '--op', 'show'], 'unreachable');
        if (!answers && (await canListen(this.options.portal)) === true) return tgtadm;
        await sleep(50);
      }
      throw new Error(`a tgtd left behind on control port ${port} would not exit`);
    }
    throw new Error(`no free tgtd control port near ${controlPortFor(this.options.portal)}`);
  }

  /** Force-deletes every target, then asks tgtd to exit (it refuses while any target exists). */
  private async shutDown(tgtadm: Tgtadm): Promise<void> {
    const shown = parseTargets(await tgtadm.run(['--lld', 'iscsi', '--mode', 'target', '--op', 'show']));
    for (const target of shown) {
      await tgtadm.runTolerating(
        ['--lld', 'iscsi', '--mode', 'target', '--op', 'delete', '--force', '--tid', String(target.tid)],
        'target-not-found',
      );
    }
    await tgtadm.run(['--mode', 'system', '--op', 'delete']);
  }

  private async spawnAndWait(): Promise<void> {
    const { portal, logPath, logger } = this.options;
    // Checked before spawning as well as after: tgtd falls back to every address when
    // its portal is taken (see below), and this keeps that from happening at all in
    // the common case of a port already in use.
    await assertCanListen(portal);
    const fd = openSync(logPath, 'a');
    let child: ChildProcess;
    try {
      // Own session (detached): a Ctrl-C meant for the service must not reach tgtd
      // before the service has taken its targets down.
      child = spawn(
        this.options.tgtdBinary ?? 'tgtd',
        ['-f', '-C', String(this.tgtadm.controlPort), '--iscsi', `portal=${portal}`],
        { detached: true, stdio: ['ignore', fd, fd] },
      );
    } finally {
      closeSync(fd);
    }
    this.child = child;
    this.startedAt = Date.now();
    this.exited = new Promise((resolve) => child.once('exit', () => resolve()));
    child.once('error', (err) => logger.error({ err }, 'tgtd could not be started'));
    child.once('exit', (code, signal) => {
      if (this.child !== child || !this.supervising || this.stopping || this.restarting) return;
      logger.error({ code, signal, tgtdPid: child.pid }, 'tgtd exited unexpectedly; restarting it');
      this.scheduleRestart();
    });

    const deadline = Date.now() + READY_TIMEOUT_MS;
    for (;;) {
      if (child.exitCode !== null || child.signalCode !== null || child.pid === undefined) {
        throw new Error(`tgtd exited during start-up: ${this.logTail()}`);
      }
      if (await this.tgtadm.runTolerating(['--mode', 'system', '--op', 'show'], 'unreachable')) break;
      if (Date.now() > deadline) {
        child.kill('SIGKILL');
        throw new Error(`tgtd did not answer on control port ${this.tgtadm.controlPort} within ${READY_TIMEOUT_MS} ms`);
      }
      await sleep(50);
    }
    // When it cannot bind the requested portal, tgtd does not fail: it falls back to
    // 0.0.0.0:3260 and [::]:3260, i.e. every address. That must never serve volumes.
    const portals = parsePortals(await this.tgtadm.run(['--lld', 'iscsi', '--mode', 'portal', '--op', 'show']));
    if (portals.length !== 1 || portals[0] !== portal) {
      child.kill('SIGKILL');
      await this.waitExit(EXIT_WAIT_MS);
      throw new Error(`tgtd could not listen on ${portal} (it offered ${portals.join(', ') || 'nothing'}): ${this.logTail()}`);
    }
    logger.info({ tgtdPid: child.pid, portal }, 'tgtd is ready');
  }

  private scheduleRestart(): void {
    this.restarting = true;
    this.readyPromise = this.restartLoop().finally(() => {
      this.restarting = false;
      // A tgtd that died during the replay is noticed here, not by its exit handler.
      const child = this.child;
      if (!this.stopping && child && (child.exitCode !== null || child.signalCode !== null)) this.scheduleRestart();
    });
    this.readyPromise.catch(() => undefined);
  }

  private async restartLoop(): Promise<void> {
    for (;;) {
      if (Date.now() - this.startedAt > STABLE_AFTER_MS) this.restarts = 0;
      await sleep(RESTART_BACKOFF_MS[Math.min(this.restarts, RESTART_BACKOFF_MS.length - 1)]!);
      this.restarts++;
      if (this.stopping) throw new Error('tgtd is stopped');
      try {
        await this.spawnAndWait();
        await this.options.onRestarted(this.tgtadm);
        this.options.logger.info({ tgtdPid: this.child?.pid }, 'tgtd restarted and its exports rebuilt');
        return;
      } catch (err) {
        this.options.logger.error({ err }, 'tgtd restart failed; trying again');
        const child = this.child;
        if (child && child.exitCode === null && child.signalCode === null) {
          child.kill('SIGKILL');
          await this.waitExit(EXIT_WAIT_MS);
        }
      }
    }
  }

  private async waitExit(ms: number): Promise<boolean> {
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<boolean>((resolve) => (timer = setTimeout(() => resolve(false), ms)));
    const done = await Promise.race([this.exited.then(() => true), timeout]);
    clearTimeout(timer);
    return done;
  }

  private logTail(): string {
    try {
      return readFileSync(this.options.logPath, 'utf8').trim().split('\n').slice(-5).join(' | ');
    } catch {
      return '(no log)';
    }
  }

  private removeSocketFiles(): void {
    if (!this.tgtadmClient) return;
    const base = `/var/run/tgtd/socket.${this.tgtadmClient.controlPort}`;
    rmSync(base, { force: true });
    rmSync(`${base}.lock`, { force: true });
  }
}
