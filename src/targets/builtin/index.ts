// The `builtin` target helper: Cinderblock's own iSCSI target in this process.
// Each export is one target with the volume's file at LUN 0 (as LIO does), one
// CHAP account, and an access list by initiator IQN. Removing an initiator ends its
// sessions at once, which is what terminate_connection needs before detach.

import { createHash } from 'node:crypto';
import { IscsiServer } from '../../iscsi/server.js';
import { openFileLogicalUnit, type FileLogicalUnit } from '../../iscsi/scsi/file-lu.js';
import { registerTargetHelper } from '../registry.js';
import type { ExportSpec, InitiatorAccess, TargetHelper, TargetHelperContext, TargetStats } from '../target.js';

const LUN = 0;

interface ExportState {
  volumeId: string;
  backingPath: string;
  lu: FileLogicalUnit;
}

/** A device identifier that stays the same for a volume across restarts: its UUID's 32 hex digits when it is one. */
export function deviceIdFor(volumeId: string): string {
  const hex = volumeId.replace(/-/g, '');
  if (/^[0-9a-fA-F]{32}$/.test(hex)) return hex.toLowerCase();
  return createHash('sha256').update(volumeId).digest('hex').slice(0, 32);
}

export class BuiltinTargetHelper implements TargetHelper {
  readonly name = 'builtin';
  readonly lun = LUN;
  readonly supportsReadOnly = true;
  readonly server: IscsiServer;
  private readonly exports = new Map<string, ExportState>();
  /** Serialises export changes per IQN, so a retry racing the first call cannot open the file twice. */
  private readonly queues = new Map<string, Promise<unknown>>();

  constructor(private readonly ctx: TargetHelperContext) {
    this.server = new IscsiServer({
      logger: ctx.logger,
      portals: [ctx.iscsiListen, ...ctx.extraPortals],
    });
  }

  async start(): Promise<void> {
    await this.server.listen(this.ctx.iscsiListen);
  }

  async stop(): Promise<void> {
    await this.server.close();
    const units = [...this.exports.values()].map((e) => e.lu);
    this.exports.clear();
    await Promise.all(units.map((lu) => lu.close()));
  }

  portals(): string[] {
    return [this.ctx.iscsiListen, ...this.ctx.extraPortals];
  }

  createExport(spec: ExportSpec): Promise<string> {
    return this.serial(spec.iqn, async () => {
      const existing = this.exports.get(spec.iqn);
      if (existing && existing.backingPath === spec.backingPath) {
        // Same export again: refresh the CHAP account, which the manager may have rotated.
        this.server.addTarget({ iqn: spec.iqn, luns: new Map([[LUN, existing.lu]]), chap: spec.chap });
        return spec.iqn;
      }
      const lu = await openFileLogicalUnit({
        path: spec.backingPath,
        serial: deviceIdFor(spec.volumeId),
        deviceId: deviceIdFor(spec.volumeId),
        thinProvisioning: true,
      });
      this.server.addTarget({ iqn: spec.iqn, luns: new Map([[LUN, lu]]), chap: spec.chap });
      this.exports.set(spec.iqn, { volumeId: spec.volumeId, backingPath: spec.backingPath, lu });
      if (existing) await existing.lu.close();
      return spec.iqn;
    });
  }

  async ensureExport(spec: ExportSpec, access: InitiatorAccess[]): Promise<string> {
    const id = await this.createExport(spec);
    const wanted = new Set(access.map((a) => a.initiator.toLowerCase()));
    for (const current of this.server.initiators(spec.iqn)) {
      if (!wanted.has(current.initiator.toLowerCase())) this.server.denyInitiator(spec.iqn, current.initiator);
    }
    for (const a of access) this.server.allowInitiator(spec.iqn, a.initiator, { readOnly: a.readOnly });
    return id;
  }

  removeExport(_volumeId: string, iqn: string): Promise<void> {
    return this.serial(iqn, async () => {
      this.server.removeTarget(iqn);
      const state = this.exports.get(iqn);
      this.exports.delete(iqn);
      if (state) await state.lu.close();
    });
  }

  async allowInitiator(iqn: string, access: InitiatorAccess): Promise<void> {
    this.server.allowInitiator(iqn, access.initiator, { readOnly: access.readOnly });
  }

  async removeInitiator(iqn: string, initiator: string): Promise<void> {
    this.server.denyInitiator(iqn, initiator);
  }

  async resized(iqn: string): Promise<void> {
    const state = this.exports.get(iqn);
    if (!state) throw new Error(`no export for ${iqn}`);
    await state.lu.resized();
  }

  stats(): TargetStats {
    return this.server.stats();
  }

  private serial<T>(iqn: string, work: () => Promise<T>): Promise<T> {
    const previous = this.queues.get(iqn) ?? Promise.resolve();
    const next = previous.then(work, work);
    const settled = next.catch(() => undefined);
    this.queues.set(iqn, settled);
    void settled.then(() => {
      if (this.queues.get(iqn) === settled) this.queues.delete(iqn);
    });
    return next;
  }
}

registerTargetHelper('builtin', (ctx) => new BuiltinTargetHelper(ctx));
