// The legacy volume actions (os-reserve ... os-detach, os-force_detach, os-reset_status),
// as Nova sends them at microversion 3.0: thin adapters over the state machine's events
// and the attachment steps the attachments API uses too. What is theirs alone is Cinder's
// checks and wording for this door, and os-attach adopting the connection that
// os-initialize_connection made without an attachment.

import { randomUUID } from 'node:crypto';
import type { VolumeUpdate } from '../db/schema.js';
import { nowTimestamp } from '../db/schema.js';
import { inTransaction } from '../db/prepared.js';
import { CinderError, errors } from '../errors.js';
import type { AttachmentSteps } from './attachment-steps.js';
import { targetOf, UUID_RE, WorkflowPart, type WorkflowCore } from './core.js';
import { visibleTo } from './loading.js';
import type { EnforcedRule } from '../policy/index.js';
import { Q } from './queries.js';
import { NOT_MIGRATING, type Effect, type VolumeEvent } from './states.js';
import { VOLUME_STATUSES, type ConnectionInfo, type Connector, type LegacyAttachRequest, type RequestContext, type ResetStatusRequest } from './types.js';

const MIGRATION_STATUSES = ['migrating', 'error', 'success', 'completing', 'none', 'starting'];

/** Cinder's host-name sanitising for os-attach: what a hostname may safely contain. */
function sanitizeHostName(name: string | null | undefined): string | null {
  if (!name) return null;
  const cleaned = name
    .replace(/[ _]/g, '-')
    .replace(/[^\w.-]/g, '')
    .toLowerCase()
    .replace(/^[.-]+|[.-]+$/g, '');
  return cleaned;
}

export class LegacyActions extends WorkflowPart {
  constructor(
    core: WorkflowCore,
    private readonly steps: AttachmentSteps,
  ) {
    super(core);
  }

  async reserve(ctx: RequestContext, id: string): Promise<void> {
    await this.applyFor(ctx, 'reserve', id, 'volume_extension:volume_actions:reserve');
  }

  async unreserve(ctx: RequestContext, id: string): Promise<void> {
    await this.applyFor(ctx, 'unreserve', id, 'volume_extension:volume_actions:unreserve');
  }

  async initializeConnection(ctx: RequestContext, id: string, connector: Connector): Promise<ConnectionInfo> {
    const { volume } = await this.load.visibleVolumeWithLive(ctx, id);
    this.authorize(ctx, 'volume_extension:volume_actions:initialize_connection', targetOf(volume));
    if (volume.status === 'maintenance') throw errors.invalidVolume('The volume connection cannot be initialized in maintenance mode.');
    const accessMode = (volume.attached_mode as 'rw' | 'ro' | null) ?? (volume.readonly === 'True' ? 'ro' : 'rw');
    try {
      return await this.rpc.initializeConnection(id, connector, { attachmentId: '', accessMode });
    } catch (err) {
      throw this.steps.backendError(err, 'Unable to fetch connection information from backend.', id);
    }
  }

  async attach(ctx: RequestContext, id: string, req: LegacyAttachRequest): Promise<void> {
    if (req.instanceUuid && !UUID_RE.test(req.instanceUuid)) throw errors.badRequest(`Expected a UUID but received ${req.instanceUuid}.`);
    await this.locks.run(id, async () => {
      const { volume, live } = await this.load.visibleVolumeWithLive(ctx, id);
      this.authorize(ctx, 'volume_extension:volume_actions:attach', targetOf(volume));
      if (volume.status === 'maintenance') throw errors.invalidVolume('The volume cannot be attached in maintenance mode.');
      if (volume.readonly === 'True' && req.mode !== 'ro') throw errors.badRequest(`Invalid attaching mode '${req.mode}' for volume ${id}.`);
      const attachedMode = volume.attached_mode;
      if (volume.status === 'attaching' && attachedMode && attachedMode !== req.mode) {
        throw errors.invalidVolume('being attached by different mode');
      }
      const hostName = sanitizeHostName(req.hostName);
      // A repeated os-attach for the same instance (or host) finds its attachment.
      const existing = live.find((a) => (req.instanceUuid ? a.instance_uuid === req.instanceUuid : a.attached_host === hostName));
      if (existing) {
        await this.machine.apply('attach', id);
        // A first attempt that stopped half way is finished by its retry.
        if (existing.attach_status !== 'attached') {
          await this.db
            .updateTable('volume_attachment')
            .set({ attach_status: 'attached', attach_time: existing.attach_time ?? nowTimestamp(), updated_at: nowTimestamp() })
            .where('id', '=', existing.id)
            .execute();
        }
        return;
      }
      const migrating = !NOT_MIGRATING.includes(volume.migration_status);
      if (volume.status === 'in-use' && volume.multiattach === 0 && !migrating) {
        throw errors.invalidVolume('volume is already attached and multiple attachments are not enabled');
      }
      const attachmentId = randomUUID();
      await inTransaction(this.db, async (trx) => {
        const instance = req.instanceUuid ?? null;
        await Q.insertAttachment(trx, attachmentId, id, instance, hostName, req.mountpoint, 'attaching', req.mode, nowTimestamp());
        if (attachedMode !== req.mode) await Q.setAdminMeta(trx, id, 'attached_mode', req.mode);
      });
      const connector = await this.rpc.adoptLegacyConnection(id, attachmentId, hostName);
      try {
        await inTransaction(this.db, async (trx) => {
          await this.machine.apply('attach', id, trx);
          const now = nowTimestamp();
          await Q.markAttached(trx, now, connector ? JSON.stringify(connector) : null, now, attachmentId);
        });
      } catch (err) {
        await this.db.updateTable('volume_attachment').set({ attach_status: 'error_attaching' }).where('id', '=', attachmentId).execute();
        throw err;
      }
    });
  }

  async beginDetaching(ctx: RequestContext, id: string): Promise<void> {
    await this.applyFor(ctx, 'begin_detaching', id, 'volume_extension:volume_actions:begin_detaching');
  }

  async rollDetaching(ctx: RequestContext, id: string): Promise<void> {
    await this.applyFor(ctx, 'roll_detaching', id, 'volume_extension:volume_actions:roll_detaching');
  }

  async terminateConnection(ctx: RequestContext, id: string, connector: Connector | null, _force: boolean): Promise<void> {
    // The storage host answers "not found" before it changes anything, so the volume is
    // read first only when the decision needs it.
    await this.authorizeOnVolume(ctx, 'volume_extension:volume_actions:terminate_connection', id);
    if (!this.steps.isService(ctx)) this.steps.checkDeletionAllowed(ctx, await this.load.liveAttachments(id));
    await this.steps.terminate(id, connector);
  }

  async detach(ctx: RequestContext, id: string, attachmentId: string | null): Promise<void> {
    // Checked on the volume and attachments read under the lock, which the detach then acts on.
    await this.steps.detachAttachment(id, attachmentId, (volume, live) => {
      if (!visibleTo(ctx, volume)) throw errors.volumeNotFound(id);
      this.authorize(ctx, 'volume_extension:volume_actions:detach', targetOf(volume));
      this.steps.checkDeletionAllowed(ctx, attachmentId ? live.filter((a) => a.id === attachmentId) : live);
      if (volume.status === 'maintenance') throw errors.invalidVolume('The volume cannot be detached in maintenance mode.');
    });
  }

  async forceDetach(ctx: RequestContext, id: string, connector: Connector | null, attachmentId: string | null): Promise<void> {
    this.authorize(ctx, 'volume_extension:volume_admin_actions:force_detach', targetOf(await this.load.volumeRow(ctx, id)));
    const live = await this.load.liveAttachments(id);
    this.steps.checkDeletionAllowed(ctx, attachmentId ? live.filter((a) => a.id === attachmentId) : live);
    await this.steps.terminate(id, connector);
    try {
      await this.steps.detachAttachment(id, attachmentId);
    } catch (err) {
      if (err instanceof CinderError && (err.code === 'ATTACHMENT_NOT_FOUND' || err.code === 'INVALID_VOLUME')) {
        const type = err.code === 'ATTACHMENT_NOT_FOUND' ? 'VolumeAttachmentNotFound' : 'InvalidVolume';
        throw errors.badRequest(`Error force detaching volume - ${type}: ${err.message}`);
      }
      throw err;
    }
  }

  async resetStatus(ctx: RequestContext, id: string, req: ResetStatusRequest): Promise<void> {
    this.authorize(ctx, 'volume_extension:volume_admin_actions:reset_status', targetOf(await this.load.volumeRow(ctx, id)));
    if (req.status === undefined && req.attachStatus === undefined && req.migrationStatus === undefined) {
      throw errors.badRequest("Must specify 'status', 'attach_status' or 'migration_status' for update.");
    }
    const tuple = (values: readonly string[]) => `(${values.map((v) => `'${v}'`).join(', ')})`;
    if (req.status !== undefined && !(VOLUME_STATUSES as readonly string[]).includes(req.status)) {
      throw errors.badRequest(`Volume status: ${req.status} is invalid, valid statuses are: ${tuple(VOLUME_STATUSES)}`);
    }
    if (req.attachStatus !== undefined && !['attached', 'detached'].includes(req.attachStatus)) {
      throw errors.badRequest(`Volume attach status: ${req.attachStatus} is invalid, valid statuses are: ${tuple(['attached', 'detached'])}`);
    }
    if (req.migrationStatus !== undefined && !MIGRATION_STATUSES.includes(req.migrationStatus)) {
      throw errors.badRequest(`Volume migration status: ${req.migrationStatus} is invalid, valid statuses are: ${tuple(MIGRATION_STATUSES)}`);
    }
    if (req.status === 'deleting') throw errors.badRequest('Cannot reset-state to deleting');
    await this.locks.run(id, async () => {
      const live = await this.load.liveAttachments(id);
      if (req.status === 'in-use' && live.length === 0) {
        throw errors.badRequest('Cannot reset-state to in-use because volume does not have any attachments.');
      }
      const set: VolumeUpdate = { updated_at: nowTimestamp() };
      if (req.status !== undefined) set.status = req.status;
      if (req.attachStatus !== undefined) set.attach_status = req.attachStatus;
      if (req.migrationStatus !== undefined) set.migration_status = req.migrationStatus === 'none' ? null : req.migrationStatus;
      await this.db.updateTable('volumes').set(set).where('id', '=', id).execute();
      if (req.attachStatus === 'detached') {
        // Unlike Cinder, the hosts' access goes too: a volume reset to detached can be
        // attached elsewhere next, and must not still be reachable from the old host.
        await this.rpc.revokeAll(id);
        for (const attachment of live) await this.steps.finishDetach(attachment.id, id);
        await this.steps.recomputeStatus(id);
      }
    });
  }

  /** An action that is one state move; the move itself answers "not found". */
  private async applyFor(ctx: RequestContext, event: VolumeEvent, id: string, rule: EnforcedRule): Promise<readonly Effect[] | null> {
    await this.authorizeOnVolume(ctx, rule, id);
    return this.machine.apply(event, id);
  }
}
