import { join } from 'node:path';
import type { Logger } from 'pino';
import type { ExportSpec, InitiatorAccess, TargetHelper, TargetHelperContext } from '../target.js';
import { TgtdDaemon } from './daemon.js';
import { parseTargets, type ShownTarget } from './show.js';
import { Tgtadm, TgtadmError } from './tgtadm.js';

/** The disk's LUN: tgt always puts its own "controller" device at LUN 0. */
export const TGT_LUN = 1;
/** tgtd's default of 8192 makes initiators send 8 KiB Data-Out PDUs; 256 KiB writes ~50-75 % faster. */
export const MAX_RECV_DATA_SEGMENT_LENGTH = 262144;

const LUN_BUSY_RETRIES = 40;
const LUN_BUSY_DELAY_MS = 50;

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

interface DesiredExport {
  spec: ExportSpec;
  tid: number;
  /** Keyed by initiator name as given; tgt compares names exactly. */
  access: Map<string, InitiatorAccess>;
}

/**
 * Exports volumes through a tgtd that this helper runs and supervises. What tgtd should
 * serve is kept here in memory (the database holds it across service restarts and
 * comes back through ensureExport), so a tgtd that dies is restarted and rebuilt.
 *
 * Access control: tgt has no per-initiator CHAP, so each target gets its volume's
 * CHAP account plus an initiator-name ACL; an initiator must both be on the list and
 * know the secret. Read-only: tgt cannot make one LUN read-only for one initiator
 * and writable for another, so supportsReadOnly is false and a read-only grant is a
 * plain grant (as with Cinder's tgt helper, the host enforces access_mode=ro).
 */
export class TgtadmTargetHelper implements TargetHelper {
  readonly name = 'tgtadm';
  readonly lun = TGT_LUN;
  readonly supportsReadOnly = false;

  private readonly exports = new Map<string, DesiredExport>();
  /** Passwords of the CHAP accounts this helper created in tgtd, by user name. */
  private readonly accounts = new Map<string, string>();
  private readonly locks = new Map<string, Promise<void>>();
  private readonly daemon: TgtdDaemon;
  private readonly logger: Logger;

  constructor(private readonly ctx: TargetHelperContext) {
    this.logger = ctx.logger.child({ targetHelper: 'tgtadm' });
    this.daemon = new TgtdDaemon({
      portal: ctx.iscsiListen,
      logPath: join(ctx.dataDir, 'tgtd.log'),
      logger: this.logger,
      onRestarted: (tgtadm) => this.replay(tgtadm),
    });
  }

  /** Process id of the supervised tgtd, for operators and tests. */
  get tgtdPid(): number | undefined {
    return this.daemon.pid;
  }

  get controlPort(): number {
    return this.daemon.tgtadm.controlPort;
  }

  async start(): Promise<void> {
    await this.daemon.start();
  }

  async stop(): Promise<void> {
    await this.daemon.stop();
    this.accounts.clear();
  }

  portals(): string[] {
    return [this.ctx.iscsiListen, ...this.ctx.extraPortals];
  }

  createExport(spec: ExportSpec): Promise<string> {
    return this.withTarget(spec.iqn, async (tgtadm) => {
      const desired = this.desire(spec);
      await this.apply(tgtadm, desired);
      return String(desired.tid);
    });
  }

  ensureExport(spec: ExportSpec, access: InitiatorAccess[]): Promise<string> {
    return this.withTarget(spec.iqn, async (tgtadm) => {
      const desired = this.desire(spec);
      desired.access = new Map(access.map((a) => [a.initiator, a]));
      await this.apply(tgtadm, desired);
      return String(desired.tid);
    });
  }

  removeExport(volumeId: string, iqn: string): Promise<void> {
    return this.withTarget(iqn, async (tgtadm) => {
      const desired = this.exports.get(iqn);
      this.exports.delete(iqn);
      const shown = await this.showTargets(tgtadm);
      const target = shown.find((t) => t.iqn === iqn);
      if (target) await this.deleteTarget(tgtadm, target.tid, iqn);
      const users = new Set([...(target?.accounts ?? []), ...(desired ? [desired.spec.chap.username] : [])]);
      for (const user of users) {
        if (this.accountInUse(user, iqn)) continue;
        await tgtadm.runTolerating(['--lld', 'iscsi', '--mode', 'account', '--op', 'delete', '--user', user], 'account-not-found');
        this.accounts.delete(user);
      }
      this.logger.info({ volumeId, iqn }, 'export removed');
    });
  }

  allowInitiator(iqn: string, access: InitiatorAccess): Promise<void> {
    return this.withTarget(iqn, async (tgtadm) => {
      const desired = this.exports.get(iqn);
      if (!desired) throw new Error(`no export for ${iqn}`);
      if (access.readOnly) this.logger.info({ iqn, initiator: access.initiator }, 'tgt cannot enforce read-only per initiator; access granted read-write');
      desired.access.set(access.initiator, access);
      await tgtadm.runTolerating(
        ['--lld', 'iscsi', '--mode', 'target', '--op', 'bind', '--tid', String(desired.tid), '--initiator-name', access.initiator],
        'acl-exists',
      );
    });
  }

  removeInitiator(iqn: string, initiator: string): Promise<void> {
    return this.withTarget(iqn, async (tgtadm) => {
      const desired = this.exports.get(iqn);
      desired?.access.delete(initiator);
      const target = (await this.showTargets(tgtadm)).find((t) => t.iqn === iqn);
      if (!target) return;
      await this.revoke(tgtadm, target, initiator);
      this.logger.info({ iqn, initiator }, 'initiator removed from target');
    });
  }

  resized(iqn: string): Promise<void> {
    return this.withTarget(iqn, async (tgtadm) => {
      const desired = this.exports.get(iqn);
      if (!desired) throw new Error(`no export for ${iqn}`);
      // tgtd reads the backing store's size only when a LUN is added and cannot re-read
      // it, so LUN 1 is replaced. Commands that reach the target while the LUN is gone
      // fail with LOGICAL UNIT NOT SUPPORTED, which initiators pass up as I/O errors;
      // a dropped connection they simply re-establish and retry. So logins are held off
      // (ACL emptied) and the connections closed for the swap, then the ACL is restored.
      // Cinder's `tgt-admin --update --force` recreates the whole target instead.
      const target = (await this.showTargets(tgtadm)).find((t) => t.iqn === iqn);
      if (!target) return this.apply(tgtadm, desired);
      try {
        for (const initiator of target.acl) await this.revoke(tgtadm, target, initiator);
        await this.deleteLun(tgtadm, desired.tid);
        await this.addLun(tgtadm, desired);
      } finally {
        await this.apply(tgtadm, desired);
      }
      this.logger.info({ iqn }, 'LUN re-read after resize');
    });
  }

  /** Records what the export should be; a changed CHAP secret or backing store is applied by apply(). */
  private desire(spec: ExportSpec): DesiredExport {
    const existing = this.exports.get(spec.iqn);
    if (existing) {
      existing.spec = spec;
      return existing;
    }
    const desired: DesiredExport = { spec, tid: this.allocateTid(), access: new Map() };
    this.exports.set(spec.iqn, desired);
    return desired;
  }

  private allocateTid(): number {
    const used = new Set([...this.exports.values()].map((e) => e.tid));
    let tid = 1;
    while (used.has(tid)) tid++;
    return tid;
  }

  /** Brings one target in tgtd to its desired state, whatever part of it already exists. */
  private async apply(tgtadm: Tgtadm, desired: DesiredExport): Promise<void> {
    const { spec } = desired;
    const shown = await this.showTargets(tgtadm);
    let target = shown.find((t) => t.iqn === spec.iqn);
    if (target && target.tid !== desired.tid) desired.tid = target.tid;
    const squatter = shown.find((t) => t.tid === desired.tid && t.iqn !== spec.iqn);
    if (squatter) throw new Error(`tid ${desired.tid} is held by ${squatter.iqn}, not ${spec.iqn}`);
    const tid = String(desired.tid);
    if (!target) {
      await tgtadm.run(['--lld', 'iscsi', '--mode', 'target', '--op', 'new', '--tid', tid, '--targetname', spec.iqn]);
      target = { tid: desired.tid, iqn: spec.iqn, nexuses: [], luns: [], accounts: [], acl: [] };
    }
    await tgtadm.run([
      '--lld', 'iscsi', '--mode', 'target', '--op', 'update', '--tid', tid,
      '--name', 'MaxRecvDataSegmentLength', '--value', String(MAX_RECV_DATA_SEGMENT_LENGTH),
    ]);

    const lun = target.luns.find((l) => l.lun === TGT_LUN);
    if (lun && lun.backingPath !== spec.backingPath) await this.deleteLun(tgtadm, desired.tid);
    if (!lun || lun.backingPath !== spec.backingPath) await this.addLun(tgtadm, desired);

    const user = spec.chap.username;
    for (const stale of target.accounts.filter((a) => a !== user)) {
      await tgtadm.runTolerating(['--lld', 'iscsi', '--mode', 'account', '--op', 'unbind', '--tid', tid, '--user', stale], 'account-not-found');
    }
    if (this.accounts.get(user) !== spec.chap.password) {
      // tgtd cannot change a password and never shows one: an account we did not create
      // with this secret is replaced.
      await tgtadm.runTolerating(['--lld', 'iscsi', '--mode', 'account', '--op', 'delete', '--user', user], 'account-not-found');
      this.accounts.delete(user);
      await tgtadm.run(['--lld', 'iscsi', '--mode', 'account', '--op', 'new', '--user', user, '--password', spec.chap.password]);
      this.accounts.set(user, spec.chap.password);
      target.accounts = target.accounts.filter((a) => a !== user);
    }
    if (!target.accounts.includes(user)) {
      await tgtadm.runTolerating(['--lld', 'iscsi', '--mode', 'account', '--op', 'bind', '--tid', tid, '--user', user], 'account-exists');
    }

    for (const initiator of desired.access.keys()) {
      if (target.acl.includes(initiator)) continue;
      await tgtadm.runTolerating(
        ['--lld', 'iscsi', '--mode', 'target', '--op', 'bind', '--tid', tid, '--initiator-name', initiator],
        'acl-exists',
      );
    }
    for (const initiator of target.acl.filter((i) => !desired.access.has(i))) await this.revoke(tgtadm, target, initiator);
  }

  private async addLun(tgtadm: Tgtadm, desired: DesiredExport): Promise<void> {
    const tid = String(desired.tid);
    await tgtadm.run([
      '--lld', 'iscsi', '--mode', 'logicalunit', '--op', 'new', '--tid', tid, '--lun', String(TGT_LUN),
      '--backing-store', desired.spec.backingPath,
    ]);
    await tgtadm.run([
      '--lld', 'iscsi', '--mode', 'logicalunit', '--op', 'update', '--tid', tid, '--lun', String(TGT_LUN),
      '--params', lunParams(desired.spec.volumeId),
    ]);
  }

  /** tgtd refuses to drop a LUN with commands in flight ("still active"); that passes in moments. */
  private async deleteLun(tgtadm: Tgtadm, tid: number): Promise<void> {
    const args = ['--lld', 'iscsi', '--mode', 'logicalunit', '--op', 'delete', '--tid', String(tid), '--lun', String(TGT_LUN)];
    for (let attempt = 1; ; attempt++) {
      try {
        await tgtadm.runTolerating(args, 'lun-not-found');
        return;
      } catch (err) {
        if (!(err instanceof TgtadmError && err.failure === 'lun-busy') || attempt >= LUN_BUSY_RETRIES) throw err;
        await sleep(LUN_BUSY_DELAY_MS);
      }
    }
  }

  /** Takes the initiator off the ACL first, so the sessions closed next cannot log in again. */
  private async revoke(tgtadm: Tgtadm, target: ShownTarget, initiator: string): Promise<void> {
    const tid = String(target.tid);
    await tgtadm.runTolerating(
      ['--lld', 'iscsi', '--mode', 'target', '--op', 'unbind', '--tid', tid, '--initiator-name', initiator],
      'acl-not-found',
    );
    const current = (await this.showTargets(tgtadm)).find((t) => t.tid === target.tid);
    for (const nexus of current?.nexuses ?? []) {
      if (nexus.initiator !== initiator) continue;
      for (const cid of nexus.cids) {
        await tgtadm.runTolerating(
          ['--lld', 'iscsi', '--mode', 'conn', '--op', 'delete', '--tid', tid, '--sid', String(nexus.sid), '--cid', String(cid)],
          'session-not-found',
          'connection-not-found',
        );
      }
    }
  }

  /**
   * tgtd sometimes reports success and keeps the target; Cinder's helper checks
   * and retries without --force, and so does this one.
   */
  private async deleteTarget(tgtadm: Tgtadm, tid: number, iqn: string): Promise<void> {
    const base = ['--lld', 'iscsi', '--mode', 'target', '--op', 'delete', '--tid', String(tid)];
    await tgtadm.runTolerating([...base, '--force'], 'target-not-found');
    if (!(await this.showTargets(tgtadm)).some((t) => t.iqn === iqn)) return;
    this.logger.warn({ iqn, tid }, 'target still present after a forced delete; retrying without --force');
    await tgtadm.runTolerating(base, 'target-not-found');
    if ((await this.showTargets(tgtadm)).some((t) => t.iqn === iqn)) throw new Error(`tgtd did not delete target ${iqn}`);
  }

  private accountInUse(user: string, exceptIqn: string): boolean {
    for (const [iqn, e] of this.exports) if (iqn !== exceptIqn && e.spec.chap.username === user) return true;
    return false;
  }

  private async showTargets(tgtadm: Tgtadm): Promise<ShownTarget[]> {
    return parseTargets(await tgtadm.run(['--lld', 'iscsi', '--mode', 'target', '--op', 'show']));
  }

  /**
   * A fresh tgtd knows nothing: every account and export is built again. One export
   * that cannot be (its file is gone, say) is logged and left out rather than holding
   * every other volume hostage; only a tgtd that stops answering fails the replay.
   */
  private async replay(tgtadm: Tgtadm): Promise<void> {
    this.accounts.clear();
    for (const desired of this.exports.values()) {
      try {
        await this.apply(tgtadm, desired);
      } catch (err) {
        if (err instanceof TgtadmError && (err.failure === 'unreachable' || err.failure === 'timeout')) throw err;
        this.logger.error({ err, iqn: desired.spec.iqn }, 'export could not be rebuilt after a tgtd restart');
      }
    }
  }

  /**
   * Serialises work per target and waits while tgtd is being restarted. A command that
   * finds tgtd gone runs once more after the restart (which has rebuilt the desired
   * state, so the retry only confirms it).
   */
  private withTarget<T>(iqn: string, work: (tgtadm: Tgtadm) => Promise<T>): Promise<T> {
    const previous = this.locks.get(iqn) ?? Promise.resolve();
    const run = previous.then(async () => {
      await this.daemon.ready();
      try {
        return await work(this.daemon.tgtadm);
      } catch (err) {
        if (!(err instanceof TgtadmError && (err.failure === 'unreachable' || err.failure === 'timeout'))) throw err;
        this.logger.warn({ err }, 'tgtd did not answer; retrying once it is back');
        await sleep(RETRY_AFTER_MS);
        await this.daemon.ready();
        return await work(this.daemon.tgtadm);
      }
    });
    // The queue holds the outcome, never the failure: the caller handles that.
    const settled = run.then(
      () => undefined,
      () => undefined,
    );
    this.locks.set(iqn, settled);
    void settled.then(() => {
      if (this.locks.get(iqn) === settled) this.locks.delete(iqn);
    });
    return run;
  }
}

/** Time for the exit of a dead tgtd to be noticed before waiting for its replacement. */
const RETRY_AFTER_MS = 300;

/**
 * Thin provisioning lets initiators UNMAP and WRITE SAME with unmap. The SCSI identity
 * comes from the volume, not from tgt's default (derived from the tid), so a volume
 * keeps its VPD 0x83 identity when exports are rebuilt in another order.
 */
export function lunParams(volumeId: string): string {
  const id = volumeId.replace(/[^A-Za-z0-9-]/g, '');
  const params = ['thin_provisioning=1'];
  if (id) params.push(`scsi_id=${id.slice(0, 36)}`, `scsi_sn=${id.replace(/-/g, '').slice(0, 32)}`);
  return params.join(',');
}
