// A real service (createApp) over a test database, with the builtin iSCSI target wrapped
// so tests can see what the target was told: which exports exist, with which CHAP
// account, and which initiators may log in.

import { randomUUID } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before } from 'node:test';
import { createApp, type App } from '../../src/app.js';
import { defaultConfig, type Config } from '../../src/config/config.js';
import { openDatabase, type DatabaseHandle } from '../../src/db/index.js';
import { createLogger } from '../../src/observability/log.js';
import { createTargetHelper, registerTargetHelper } from '../../src/targets/registry.js';
import type { ExportSpec, InitiatorAccess, TargetHelper } from '../../src/targets/target.js';
import type { BlockStorage } from '../../src/volumes/service.js';
import type { RequestContext, VolumeRecord, VolumeStatus } from '../../src/volumes/types.js';
import { freePort } from '../helpers/env.js';
import '../../src/targets/all.js';

export interface ExportView {
  chap: ExportSpec['chap'];
  access: Map<string, boolean>;
}

export class RecordingTarget implements TargetHelper {
  readonly exports = new Map<string, ExportView>();
  readonly calls: string[] = [];

  constructor(private readonly inner: TargetHelper) {}

  get name() {
    return this.inner.name;
  }
  get lun() {
    return this.inner.lun;
  }
  get supportsReadOnly() {
    return this.inner.supportsReadOnly;
  }
  start() {
    return this.inner.start();
  }
  stop() {
    return this.inner.stop();
  }
  portals() {
    return this.inner.portals();
  }
  async createExport(spec: ExportSpec) {
    this.calls.push(`createExport ${spec.iqn}`);
    const tid = await this.inner.createExport(spec);
    const current = this.exports.get(spec.iqn);
    this.exports.set(spec.iqn, { chap: spec.chap, access: current?.access ?? new Map() });
    return tid;
  }
  async ensureExport(spec: ExportSpec, access: InitiatorAccess[]) {
    this.calls.push(`ensureExport ${spec.iqn}`);
    const tid = await this.inner.ensureExport(spec, access);
    this.exports.set(spec.iqn, { chap: spec.chap, access: new Map(access.map((a) => [a.initiator, a.readOnly])) });
    return tid;
  }
  async removeExport(volumeId: string, iqn: string) {
    this.calls.push(`removeExport ${iqn}`);
    await this.inner.removeExport(volumeId, iqn);
    this.exports.delete(iqn);
  }
  async allowInitiator(iqn: string, access: InitiatorAccess) {
    this.calls.push(`allowInitiator ${iqn} ${access.initiator} ${access.readOnly ? 'ro' : 'rw'}`);
    await this.inner.allowInitiator(iqn, access);
    this.exports.get(iqn)?.access.set(access.initiator, access.readOnly);
  }
  async removeInitiator(iqn: string, initiator: string) {
    this.calls.push(`removeInitiator ${iqn} ${initiator}`);
    await this.inner.removeInitiator(iqn, initiator);
    this.exports.get(iqn)?.access.delete(initiator);
  }
  async resized(iqn: string) {
    this.calls.push(`resized ${iqn}`);
    await this.inner.resized(iqn);
  }
}

let lastTarget: RecordingTarget | null = null;
registerTargetHelper('recording-builtin', (ctx) => {
  lastTarget = new RecordingTarget(createTargetHelper('builtin', ctx));
  return lastTarget;
});

export interface Harness {
  app: App;
  storage: BlockStorage;
  target: RecordingTarget;
  config: Config;
  /** Closes this app and starts another on the same data dir and database (a service restart). */
  restart(): Promise<Harness>;
}

async function start(config: Config): Promise<{ app: App; target: RecordingTarget }> {
  const app = await createApp(config, createLogger(process.env.TEST_LOG_LEVEL ?? 'silent'));
  return { app, target: lastTarget! };
}

/** A service on `databaseUrl` with its own data dir and iSCSI port; closed when `register` says the test ends. */
export async function startService(
  databaseUrl: string,
  register: (fn: () => Promise<void>) => void,
  overrides: Partial<Config> = {},
): Promise<Harness> {
  const dataDir = await mkdtemp(join(tmpdir(), 'cinderblock-svc-'));
  const config: Config = {
    ...defaultConfig(),
    dataDir,
    database: databaseUrl,
    iscsiListen: `127.0.0.1:${await freePort()}`,
    targetHelper: 'recording-builtin',
    host: 'testhost',
    ...overrides,
  };
  let current = await start(config);
  const harness: Harness = {
    get app() {
      return current.app;
    },
    get storage() {
      return current.app.storage;
    },
    get target() {
      return current.target;
    },
    config,
    restart: async () => {
      await current.app.close();
      current = await start(config);
      return harness;
    },
  };
  register(async () => {
    await current.app.close();
    await rm(dataDir, { recursive: true, force: true });
  });
  return harness;
}

/**
 * For the tests of one describe block: a service on the block's database, and a second, raw
 * handle on that database to check what the service wrote. Both open before the tests and
 * close after them; read them inside tests, not when the block is declared.
 */
export function serviceForSuite(db: () => { url: string }, overrides: Partial<Config> = {}): { readonly svc: Harness; readonly raw: DatabaseHandle } {
  const suite = {} as { svc: Harness; raw: DatabaseHandle };
  const closers: Array<() => Promise<void>> = [];
  before(async () => {
    suite.svc = await startService(db().url, (fn) => closers.push(fn), overrides);
    suite.raw = await openDatabase(db().url);
  });
  after(async () => {
    await suite.raw.close();
    for (const close of closers.reverse()) await close();
  });
  return suite;
}

export function userCtx(projectId = randomUUID().replace(/-/g, ''), extra: Partial<RequestContext> = {}): RequestContext {
  return {
    userId: 'user',
    projectId,
    roles: ['member', 'reader'],
    isAdmin: false,
    isAdminProject: true,
    isService: false,
    requestId: `req-${randomUUID()}`,
    ...extra,
  };
}

export function adminCtx(projectId = randomUUID().replace(/-/g, ''), extra: Partial<RequestContext> = {}): RequestContext {
  return userCtx(projectId, { isAdmin: true, roles: ['admin', 'member', 'reader'], ...extra });
}

export async function waitForStatus(
  storage: BlockStorage,
  ctx: RequestContext,
  id: string,
  wanted: VolumeStatus | VolumeStatus[],
  timeoutMs = 10_000,
): Promise<VolumeRecord> {
  const set = Array.isArray(wanted) ? wanted : [wanted];
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const volume = await storage.getVolume(ctx, id);
    if (set.includes(volume.status)) return volume;
    if (Date.now() > deadline) throw new Error(`volume ${id} is ${volume.status}, expected ${set.join(' or ')}`);
    await new Promise((r) => setTimeout(r, 5));
  }
}

export async function waitForGone(storage: BlockStorage, ctx: RequestContext, id: string, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      await storage.getVolume(ctx, id);
    } catch {
      return;
    }
    if (Date.now() > deadline) throw new Error(`volume ${id} was not deleted`);
    await new Promise((r) => setTimeout(r, 5));
  }
}

export async function availableVolume(
  storage: BlockStorage,
  ctx: RequestContext,
  opts: { size?: number; volumeType?: string; name?: string } = {},
): Promise<VolumeRecord> {
  const created = await storage.createVolume(ctx, { size: opts.size ?? 1, volumeType: opts.volumeType ?? null, name: opts.name ?? null });
  return waitForStatus(storage, ctx, created.id, 'available');
}

export function connector(host: string, extra: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    initiator: `iqn.1993-08.org.debian:01:${host}`,
    ip: '127.0.0.1',
    platform: 'x86_64',
    host,
    os_type: 'linux',
    multipath: false,
    ...extra,
  };
}

export const SERVER_A = '0c9f1b1e-6e4b-4c8e-9d0a-1f2e3d4c5b6a';
export const SERVER_B = '7d8e9fa0-1b2c-4d3e-8f4a-5b6c7d8e9f00';
