// The `builtin` target helper: Cinderblock's own iSCSI target in this process.
// Each export is one target with the volume's file at LUN 0 (as LIO does), one
// CHAP account, and an access list by initiator IQN. Removing an initiator ends its
// sessions at once, which is what terminate_connection needs before detach. An export
// with back-end QoS limits serves its file through a throttle; one without serves the
// file itself, so unlimited volumes pay nothing.

import { createHash } from 'node:crypto';
import { IscsiServer } from '../../iscsi/server.js';
import { openFileLogicalUnit, type FileLogicalUnit } from '../../iscsi/scsi/file-lu.js';
import { hasLimits, ThrottledLogicalUnit, type IoLimits } from '../../iscsi/scsi/throttle.js';
import type { LogicalUnit } from '../../iscsi/scsi/types.js';
import { registerTargetHelper } from '../registry.js';
import type { ExportSpec, InitiatorAccess, TargetHelper, TargetHelperContext, TargetStats } from '../target.js';

const LUN = 0;

interface ExportState {
  volumeId: string;
  backingPath: string;
  lu: FileLogicalUnit;
  throttle: ThrottledLogicalUnit | null;
}

/** The export's throttle for `limits`: the same one with new limits, a new one, or none. */
function throttleFor(lu: FileLogicalUnit, current: ThrottledLogicalUnit | null, limits: IoLimits | undefined): ThrottledLogicalUnit | null {
  if (!hasLimits(limits)) return null;
  if (!current) return new ThrottledLogicalUnit(lu, limits);
  current.setLimits(limits);
  return current;
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
    const states = [...this.exports.values()];
    this.exports.clear();
    await Promise.all(states.map((state) => closeExport(state)));
  }

  portals(): string[] {
    return [this.ctx.iscsiListen, ...this.ctx.extraPortals];
  }

  createExport(spec: ExportSpec): Promise<string> {
    return this.serial(spec.iqn, async () => {
      const existing = this.exports.get(spec.iqn);
      if (existing && existing.backingPath === spec.backingPath) {
        // Same export again: refresh the CHAP account, which the manager may have rotated, and the limits.
        const previous = existing.throttle;
        existing.throttle = throttleFor(existing.lu, previous, spec.limits);
        this.publish(spec, existing);
        if (previous && !existing.throttle) await previous.close();
        return spec.iqn;
      }
      const lu = await openFileLogicalUnit({
        path: spec.backingPath,
        serial: deviceIdFor(spec.volumeId),
        deviceId: deviceIdFor(spec.volumeId),
        thinProvisioning: true,
      });
      const state: ExportState = { volumeId: spec.volumeId, backingPath: spec.backingPath, lu, throttle: throttleFor(lu, null, spec.limits) };
      this.publish(spec, state);
      this.exports.set(spec.iqn, state);
      if (existing) await closeExport(existing);
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
      if (state) await closeExport(state);
    });
  }

  private publish(spec: ExportSpec, state: ExportState): void {
    const served: LogicalUnit = state.throttle ?? state.lu;
    this.server.addTarget({ iqn: spec.iqn, luns: new Map([[LUN, served]]), chap: spec.chap });
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

/** Commands still waiting in the throttle run before the file closes. */
async function closeExport(state: ExportState): Promise<void> {
  await state.throttle?.close();
  await state.lu.close();
}

registerTargetHelper('builtin', (ctx) => new BuiltinTargetHelper(ctx));
