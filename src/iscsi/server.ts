// IscsiServer: listens on one or more portals and serves the targets registered
// with it. It knows nothing of volumes or databases; a target helper tells it which
// targets exist, which logical units they hold, who may log in and with what CHAP.
//
//   const server = new IscsiServer({ logger });
//   await server.listen('127.0.0.1:3260');
//   server.addTarget({ iqn, luns: new Map([[0, lu]]), chap: { username, password } });
//   server.allowInitiator(iqn, 'iqn.1994-05.com.redhat:host1', { readOnly: false });
//   server.denyInitiator(iqn, 'iqn.1994-05.com.redhat:host1'); // also ends its sessions
//   await server.close();

import { createServer, type AddressInfo, type Server, type Socket } from 'node:net';
import type { ChapAccount, AuthPolicy, LoginEnvironment } from './login/login.js';
import { DEFAULT_TARGET_LIMITS, type TargetLimits } from './login/negotiation.js';
import type { TextPairs } from './pdu/text.js';
import { executeForTarget } from './scsi/dispatch.js';
import type { LogicalUnit } from './scsi/types.js';
import {
  Connection,
  DEFAULT_CONNECTION_LIMITS,
  type ConnectionHost,
  type ConnectionLimits,
  type ConnectionLogger,
  type TargetRecord,
} from './session/connection.js';

export type { ChapAccount } from './login/login.js';

export interface TargetOptions {
  iqn: string;
  /** LUN number to logical unit. The server does not close them; their owner does. */
  luns: ReadonlyMap<number, LogicalUnit>;
  /** Initiators must authenticate with this account (CHAP). Without it, AuthMethod=None is accepted. */
  chap?: ChapAccount;
  /** What the target answers with when an initiator asks for mutual CHAP. */
  mutualChap?: ChapAccount;
}

export interface InitiatorAccessOptions {
  /** Write-type commands get DATA PROTECT, and MODE SENSE reports write protection. */
  readOnly?: boolean;
}

export interface LoginThrottle {
  /** Failed logins (bad CHAP, not on the access list) allowed per address in `windowMs`. */
  maxFailures: number;
  windowMs: number;
}

export interface IscsiServerOptions {
  logger?: ConnectionLogger;
  /** Portals announced by SendTargets ("host:port"); default: the addresses listened on. */
  portals?: string[];
  /** Require CHAP on discovery sessions. */
  discoveryChap?: ChapAccount;
  discoveryMutualChap?: ChapAccount;
  /** Negotiation limits; the defaults suit QEMU and libiscsi. */
  limits?: Partial<TargetLimits>;
  connectionLimits?: Partial<ConnectionLimits>;
  loginThrottle?: LoginThrottle;
}

export interface IscsiServerStats {
  /** TCP connections, in login or full feature phase, discovery ones included. */
  connections: number;
  /** Normal sessions logged in to a target. */
  sessions: number;
  /** Normal sessions that completed login. */
  loginsSucceeded: number;
  /** Logins refused for their credentials or their access: wrong CHAP, initiator not allowed. */
  loginsFailed: number;
}

interface AccessEntry {
  initiator: string;
  readOnly: boolean;
}

class Target implements TargetRecord {
  readonly acl = new Map<string, AccessEntry>();
  readonly connections = new Set<Connection>();
  constructor(
    readonly iqn: string,
    public luns: ReadonlyMap<number, LogicalUnit>,
    public auth: AuthPolicy,
  ) {}

  access(initiatorName: string): AccessEntry | undefined {
    return this.acl.get(normalizeName(initiatorName));
  }
}

// iSCSI names compare case-insensitively (RFC 3722 maps them to lower case).
const normalizeName = (name: string): string => name.toLowerCase();

const SILENT: ConnectionLogger = { info() {}, warn() {}, debug() {} };
const PORTAL_GROUP_TAG = 1;
const MAX_TRACKED_ADDRESSES = 10_000;

export class IscsiServer {
  private readonly targets = new Map<string, Target>();
  private readonly servers: Server[] = [];
  private readonly listening: string[] = [];
  private readonly connections = new Set<Connection>();
  private readonly failures = new Map<string, number[]>();
  private readonly host: ConnectionHost;
  private readonly connectionLimits: ConnectionLimits;
  private readonly throttle: LoginThrottle;
  private nextTsih = 1;
  private loginsSucceeded = 0;
  private loginsFailed = 0;

  constructor(private readonly options: IscsiServerOptions = {}) {
    const logger = options.logger ?? SILENT;
    const limits: TargetLimits = { ...DEFAULT_TARGET_LIMITS, ...options.limits };
    this.connectionLimits = { ...DEFAULT_CONNECTION_LIMITS, ...options.connectionLimits };
    this.throttle = options.loginThrottle ?? { maxFailures: 20, windowMs: 60_000 };
    const discoveryAuth: AuthPolicy | undefined = options.discoveryChap
      ? { chap: options.discoveryChap, ...(options.discoveryMutualChap ? { mutual: options.discoveryMutualChap } : {}) }
      : undefined;
    const loginEnv: LoginEnvironment = {
      limits,
      portalGroupTag: PORTAL_GROUP_TAG,
      ...(discoveryAuth ? { discoveryAuth } : {}),
      targetAuth: (iqn) => this.targets.get(normalizeName(iqn))?.auth,
      isAllowed: (iqn, initiator) => this.targets.get(normalizeName(iqn))?.access(initiator) !== undefined,
      allocateTsih: () => {
        const tsih = this.nextTsih;
        this.nextTsih = this.nextTsih >= 0xffff ? 1 : this.nextTsih + 1;
        return tsih;
      },
    };
    this.host = {
      loginEnv,
      logger,
      findTarget: (iqn) => this.targets.get(normalizeName(iqn)),
      sendTargets: (initiator, value, current) => this.sendTargets(initiator, value, current),
      execute: executeForTarget,
      loginThrottled: (address) => this.recentFailures(address) >= this.throttle.maxFailures,
      loginFailed: (address) => {
        this.loginsFailed++;
        // Many addresses failing once each must not grow the table without end.
        if (this.failures.size >= MAX_TRACKED_ADDRESSES) for (const a of [...this.failures.keys()]) this.recentFailures(a);
        const list = this.failures.get(address) ?? [];
        list.push(Date.now());
        this.failures.set(address, list);
      },
      sessionStarted: (conn) => this.sessionStarted(conn),
      connectionClosed: (conn) => this.connectionClosed(conn),
      resetTasks: (target, lun, except) => {
        for (const conn of (target as Target).connections) if (conn !== except) conn.abortTasks(lun);
      },
    };
  }

  /** Starts listening on "host:port" (IPv6 as "[::1]:3260"); may be called once per portal. Returns the bound address. */
  async listen(portal: string): Promise<AddressInfo> {
    const { host, port } = parsePortal(portal);
    const server = createServer((socket) => this.accept(socket));
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(port, host, () => {
        server.off('error', reject);
        resolve();
      });
    });
    const address = server.address() as AddressInfo;
    this.servers.push(server);
    this.listening.push(formatPortal(address.address, address.port));
    return address;
  }

  /** The portals SendTargets announces, "host:port". */
  portals(): string[] {
    return this.options.portals ?? [...this.listening];
  }

  /** Adds a target, or updates the LUNs and CHAP of an existing one (its access list and sessions stay). */
  addTarget(target: TargetOptions): void {
    const key = normalizeName(target.iqn);
    const auth: AuthPolicy = {
      ...(target.chap ? { chap: target.chap } : {}),
      ...(target.mutualChap ? { mutual: target.mutualChap } : {}),
    };
    const existing = this.targets.get(key);
    if (existing) {
      existing.luns = target.luns;
      existing.auth = auth;
      return;
    }
    this.targets.set(key, new Target(target.iqn, target.luns, auth));
  }

  hasTarget(iqn: string): boolean {
    return this.targets.has(normalizeName(iqn));
  }

  /** Removes a target and closes every session on it. Idempotent. */
  removeTarget(iqn: string): void {
    const key = normalizeName(iqn);
    const target = this.targets.get(key);
    if (!target) return;
    this.targets.delete(key);
    for (const conn of [...target.connections]) conn.terminate('target removed');
  }

  /** Lets an initiator log in to the target (or changes its read-only flag for new sessions). */
  allowInitiator(iqn: string, initiator: string, access: InitiatorAccessOptions = {}): void {
    const target = this.requireTarget(iqn);
    target.acl.set(normalizeName(initiator), { initiator, readOnly: access.readOnly ?? false });
  }

  /** Removes the initiator from the access list and closes its live sessions on that target at once. Idempotent. */
  denyInitiator(iqn: string, initiator: string): void {
    const target = this.targets.get(normalizeName(iqn));
    if (!target) return;
    const key = normalizeName(initiator);
    target.acl.delete(key);
    for (const conn of [...target.connections]) {
      if (normalizeName(conn.initiatorName) === key) conn.terminate('initiator access removed');
    }
  }

  /** Initiators currently allowed on the target. */
  initiators(iqn: string): Array<{ initiator: string; readOnly: boolean }> {
    return [...(this.targets.get(normalizeName(iqn))?.acl.values() ?? [])].map((e) => ({ ...e }));
  }

  /** Number of open sessions on the target (normal sessions only). */
  sessionCount(iqn: string): number {
    return this.targets.get(normalizeName(iqn))?.connections.size ?? 0;
  }

  /** Stops listening and closes every connection. Logical units are left to their owner. */
  async close(): Promise<void> {
    const closing = this.servers.map((s) => new Promise<void>((resolve) => s.close(() => resolve())));
    this.servers.length = 0;
    for (const conn of [...this.connections]) conn.terminate('server closing');
    await Promise.all(closing);
  }

  private accept(socket: Socket): void {
    const conn = new Connection(socket, this.host, this.connectionLimits);
    this.connections.add(conn);
    socket.once('close', () => this.connections.delete(conn));
  }

  private requireTarget(iqn: string): Target {
    const target = this.targets.get(normalizeName(iqn));
    if (!target) throw new Error(`unknown iSCSI target ${iqn}`);
    return target;
  }

  private recentFailures(address: string): number {
    const list = this.failures.get(address);
    if (!list) return 0;
    const since = Date.now() - this.throttle.windowMs;
    while (list.length && list[0]! < since) list.shift();
    if (!list.length) this.failures.delete(address);
    return list.length;
  }

  private sendTargets(initiator: string, value: string, current?: string): TextPairs {
    let names: Target[];
    if (value === 'All') names = [...this.targets.values()];
    else if (value === '') names = current ? [this.targets.get(normalizeName(current))!].filter(Boolean) : [];
    else names = [this.targets.get(normalizeName(value))].filter((t): t is Target => t !== undefined);
    const pairs: TextPairs = [];
    for (const target of names) {
      if (!target.access(initiator)) continue;
      pairs.push(['TargetName', target.iqn]);
      for (const portal of this.portals()) pairs.push(['TargetAddress', `${portal},${PORTAL_GROUP_TAG}`]);
    }
    return pairs;
  }

  private sessionStarted(conn: Connection): boolean {
    const target = conn.target as Target | undefined;
    if (!target || this.targets.get(normalizeName(target.iqn)) !== target) return false;
    // Same initiator port and target port: session reinstatement, the old session goes first.
    for (const other of [...target.connections]) {
      if (other.nexus?.id === conn.nexus?.id) other.terminate('session reinstated');
    }
    target.connections.add(conn);
    this.loginsSucceeded++;
    return true;
  }

  /** What an operator watches: sessions now, and logins since start by outcome. */
  stats(): IscsiServerStats {
    let sessions = 0;
    for (const target of this.targets.values()) sessions += target.connections.size;
    return { connections: this.connections.size, sessions, loginsSucceeded: this.loginsSucceeded, loginsFailed: this.loginsFailed };
  }

  private connectionClosed(conn: Connection): void {
    const target = conn.target as Target | undefined;
    if (!target || !conn.nexus || !target.connections.delete(conn)) return;
    for (const lu of target.luns.values()) lu.nexusLost(conn.nexus);
  }
}

export function parsePortal(portal: string): { host: string; port: number } {
  const m = /^\[([^\]]+)\]:(\d+)$/.exec(portal) ?? /^([^:]+):(\d+)$/.exec(portal);
  if (!m) throw new Error(`invalid portal "${portal}" (expected host:port)`);
  return { host: m[1]!, port: Number(m[2]) };
}

function formatPortal(host: string, port: number): string {
  return host.includes(':') ? `[${host}]:${port}` : `${host}:${port}`;
}
