// The attachment steps both doors share, the legacy actions and the attachments API alike:
// connecting a host (its attachment row and the volume's move in one commit), releasing a
// host's access, finishing a detach, and the rule of who may pull an attachment a compute
// host is using. Each door adds only its own checks and its own wording of failures.

import type { AttachmentRow } from '../db/schema.js';
import { nowTimestamp } from '../db/schema.js';
import { inTransaction } from '../db/prepared.js';
import { CinderError, errors } from '../errors.js';
import { WorkflowPart } from './core.js';
import { Q } from './queries.js';
import type { Connector, RequestContext } from './types.js';

export class AttachmentSteps extends WorkflowPart {
  /**
   * attachment_update's storage step and its bookkeeping; the caller holds the volume lock.
   * Resolves to the attachment as it now stands.
   */
  async connectAttachment(attachmentId: string, volumeId: string, connector: Connector): Promise<AttachmentRow> {
    const { volume, live } = await this.load.volumeWithLive(volumeId);
    if (!volume) throw errors.volumeNotFound(volumeId);
    if (volume.status.includes('error')) {
      throw errors.invalidVolume(
        `Volume attachments can not be updated if the volume is in an error state. The Volume ${volumeId} currently has a status of: ${volume.status} `,
      );
    }
    if (volume.multiattach === 0 && live.length > 1 && live.some((a) => a.connection_info !== null)) {
      throw errors.invalidVolume(`duplicate connectors detected on volume ${volumeId}`);
    }
    const attachment = live.find((a) => a.id === attachmentId);
    if (!attachment) throw errors.attachmentNotFound(attachmentId);
    const requested = connector['mode'] === 'ro' ? 'ro' : 'rw';
    const mode: 'rw' | 'ro' = attachment.attach_mode === 'null' ? requested : (attachment.attach_mode as 'rw' | 'ro');
    const info = await this.rpc.initializeConnection(volumeId, { ...connector, mode }, { attachmentId, accessMode: mode });
    const flat = { ...info.data, driver_volume_type: info.driver_volume_type, attachment_id: attachmentId };
    const host = connector['host'];
    const mountpoint = connector['mountpoint'];
    // The attachment's new state and the volume's are one commit.
    return inTransaction(this.db, async (trx) => {
      const now = nowTimestamp();
      const { rows } = await Q.connectAttachment(
        trx,
        JSON.stringify({ ...connector, mode }),
        JSON.stringify(flat),
        typeof host === 'string' ? host : '',
        typeof mountpoint === 'string' ? mountpoint : 'na',
        mode,
        now,
        now,
        attachmentId,
      );
      await this.machine.apply('attachment_connect', volumeId, trx);
      return rows[0]!;
    });
  }

  /**
   * os-terminate_connection's storage step: the connector's host loses its access, and a
   * volume still attaching settles as an unreserve would settle it.
   */
  async terminate(id: string, connector: Connector | null): Promise<void> {
    try {
      await this.rpc.terminateConnection(id, connector);
    } catch (err) {
      throw this.backendError(err, 'Unable to terminate volume connection from backend.', id);
    }
    await this.machine.apply('unreserve', id);
  }

  /**
   * A detach under the volume's lock: the attachment named, or the only one, is released
   * and finished. `check` sees the volume and attachments as read under the lock, so what
   * it allows is what the detach acts on.
   */
  async detachAttachment(
    id: string,
    attachmentId: string | null,
    check?: (volume: { project_id: string; status: string } | null, live: AttachmentRow[]) => void,
  ): Promise<void> {
    await this.locks.run(id, async () => {
      const { volume, live } = await this.load.volumeWithLive(id);
      check?.(volume, live);
      let target: AttachmentRow | undefined;
      if (attachmentId) {
        target = live.find((a) => a.id === attachmentId);
        // Cinder: an unknown attachment still settles the volume's status, and succeeds.
        if (!target) return this.recomputeStatus(id);
      } else {
        if (live.length > 1) throw errors.invalidVolume('Detach volume failed: More than one attachment, but no attachment_id provided.');
        target = live[0];
        if (!target) return this.recomputeStatus(id);
      }
      await this.releaseAttachment(id, target.id);
      await this.finishDetach(target.id, id);
    });
  }

  /** The storage host drops the attachment's access; a failure leaves the row in error_detaching. */
  async releaseAttachment(volumeId: string, attachmentId: string): Promise<void> {
    try {
      await this.rpc.releaseAttachment(volumeId, attachmentId);
    } catch (err) {
      await this.db.updateTable('volume_attachment').set({ attach_status: 'error_detaching' }).where('id', '=', attachmentId).execute();
      throw this.backendError(err, 'Unable to terminate volume connection from backend.', volumeId);
    }
  }

  /**
   * Cinder's finish_detach: the attachment is soft-deleted and the volume takes its status
   * from what remains, in one commit.
   */
  async finishDetach(attachmentId: string, volumeId: string): Promise<void> {
    await inTransaction(this.db, async (trx) => {
      const now = nowTimestamp();
      await Q.finishDetach(trx, now, attachmentId);
      await Q.deleteAdminMeta(trx, volumeId, 'attached_mode');
      await Q.recomputeStatus(trx, now, volumeId);
    });
  }

  /**
   * Cinder's volume_detached: the volume takes the alphabetically first attach_status of
   * its remaining attachments that are not errors (attached < attaching < detaching <
   * reserved; status follows, attached meaning in-use), or available/detached when none
   * remain, except that a migrating or uploading volume keeps its status. One UPDATE, so
   * the attachments are read by the statement that writes and a concurrent detach of
   * another attachment cannot leave a stale answer behind.
   */
  async recomputeStatus(volumeId: string): Promise<void> {
    await Q.recomputeStatus(this.db, nowTimestamp(), volumeId);
  }

  /**
   * OSSA-2023-003: a user may not pull an attachment a compute host is using (it has an
   * instance and connection_info) out from under it; only a service (Nova) may.
   */
  checkDeletionAllowed(ctx: RequestContext, attachments: Pick<AttachmentRow, 'instance_uuid' | 'connection_info'>[]): void {
    if (this.isService(ctx)) return;
    const inUse = attachments.find((a) => a.instance_uuid && a.connection_info);
    if (inUse) throw errors.novaUsingAttachment(inUse.instance_uuid!);
  }

  isService(ctx: RequestContext): boolean {
    return ctx.isService || this.options.noauthTrustsCallers;
  }

  /** Request errors pass through; anything else is logged and reported in Cinder's words for the door used. */
  backendError(err: unknown, message: string, volumeId: string): CinderError {
    if (err instanceof CinderError) return err;
    this.logger.error({ volumeId, err: (err as Error).message }, message);
    return errors.backend(message);
  }
}
