// The attachments API (create with or without a connector, update with one, os-complete,
// delete, show, list): the same state machine and attachment steps as the legacy
// actions, reached through another door with its own checks and wording.

import { randomUUID } from 'node:crypto';
import type { Kysely } from 'kysely';
import type { AttachmentRow, Database } from '../db/schema.js';
import { nowTimestamp } from '../db/schema.js';
import { inTransaction } from '../db/prepared.js';
import { CinderError, errors } from '../errors.js';
import type { AttachmentSteps } from './attachment-steps.js';
import { targetOf, WorkflowPart, type WorkflowCore } from './core.js';
import { attachmentSort, compileAttachmentFilters, conditionsExpression, paginate } from './listing.js';
import { Q } from './queries.js';
import { toAttachmentRecord } from './records.js';
import type { AttachMode, AttachmentRecord, Connector, CreateAttachmentRequest, ListQuery, RequestContext } from './types.js';

function isEmptyConnector(connector: Connector | null | undefined): boolean {
  return !connector || Object.keys(connector).length === 0;
}

export class AttachmentsApi extends WorkflowPart {
  constructor(
    core: WorkflowCore,
    private readonly steps: AttachmentSteps,
  ) {
    super(core);
  }

  async createAttachment(ctx: RequestContext, req: CreateAttachmentRequest): Promise<AttachmentRecord> {
    const { volume } = await this.load.visibleVolumeWithLive(ctx, req.volumeId);
    this.authorize(ctx, 'volume:attachment_create', targetOf(volume));
    // Cinder's extra rule for a second server booting from the same disk.
    if (volume.multiattach === 1 && volume.bootable === 1 && volume.status === 'in-use') {
      this.authorize(ctx, 'volume:multiattach_bootable_volume', targetOf(volume));
    }
    const volumeId = req.volumeId;
    if (volume.status.includes('error')) {
      throw errors.invalidVolume(
        `Volume attachments can not be created if the volume is in an error state. The Volume ${volumeId} currently has a status of: ${volume.status} `,
      );
    }
    const mode: AttachMode = volume.readonly === 'True' ? 'ro' : (req.mode ?? 'null');
    const attachmentId = randomUUID();
    const instance = req.instanceUuid ?? null;
    const insert = async (db: Kysely<Database>) => {
      const { rows } = await Q.insertAttachment(db, attachmentId, volumeId, instance, null, null, 'reserved', mode, nowTimestamp());
      return rows[0]!;
    };
    let attachment: AttachmentRow;
    try {
      // The reservation and its attachment row are one commit.
      attachment = await inTransaction(this.db, async (trx) => {
        await this.machine.apply('attachment_reserve', volumeId, trx);
        return insert(trx);
      });
    } catch (err) {
      if (!(await this.sameInstanceOverride(err, volumeId, instance))) throw err;
      attachment = await insert(this.db);
    }
    if (!isEmptyConnector(req.connector)) {
      try {
        attachment = await this.locks.run(volumeId, () => this.steps.connectAttachment(attachmentId, volumeId, req.connector!));
      } catch (err) {
        // Cinder removes the half-made attachment before reporting the failure.
        await this.locks.run(volumeId, async () => {
          await this.rpc.releaseAttachment(volumeId, attachmentId).catch(() => undefined);
          await this.steps.finishDetach(attachmentId, volumeId);
        });
        if (err instanceof CinderError && (err.code === 'INVALID_VOLUME' || err.code === 'POLICY')) throw err;
        if (err instanceof CinderError) throw errors.backend(`Unable to create attachment for volume (${err.message}).`);
        throw this.steps.backendError(err, 'Unable to create attachment for volume.', volumeId);
      }
    }
    return toAttachmentRecord(attachment);
  }

  /** LP#1694530: a server moving between hosts needs a second reservation of its volume. */
  private async sameInstanceOverride(err: unknown, volumeId: string, instanceUuid: string | null): Promise<boolean> {
    if (!(err instanceof CinderError) || err.code !== 'INVALID_VOLUME' || !instanceUuid) return false;
    const state = await this.machine.volumeState(volumeId);
    if (!state || !['in-use', 'reserved'].includes(state.status)) return false;
    const live = await this.load.liveAttachments(volumeId);
    return live.some((a) => a.instance_uuid === instanceUuid);
  }

  async updateAttachment(ctx: RequestContext, id: string, connector: Connector): Promise<AttachmentRecord> {
    const access = await this.load.attachmentAccess(ctx, id);
    this.authorize(ctx, 'volume:attachment_update', targetOf(access));
    const volumeId = access.volume_id;
    if (typeof connector['host'] !== 'string') throw errors.backend('Unable to update the attachment.');
    try {
      return toAttachmentRecord(await this.locks.run(volumeId, () => this.steps.connectAttachment(id, volumeId, connector)));
    } catch (err) {
      if (err instanceof CinderError && err.code === 'POLICY') throw err;
      if (err instanceof CinderError) throw errors.backend(`Unable to update attachment.(${err.message}).`);
      throw this.steps.backendError(err, 'Unable to update the attachment.', volumeId);
    }
  }

  async completeAttachment(ctx: RequestContext, id: string): Promise<void> {
    const access = await this.load.attachmentAccess(ctx, id);
    this.authorize(ctx, 'volume:attachment_complete', targetOf(access));
    const volumeId = access.volume_id;
    await this.locks.run(volumeId, () =>
      inTransaction(this.db, async (trx) => {
        await Q.completeAttachment(trx, nowTimestamp(), id);
        await this.machine.apply('attachment_complete', volumeId, trx);
      }),
    );
  }

  async deleteAttachment(ctx: RequestContext, id: string): Promise<AttachmentRecord[]> {
    const attachment = await this.load.attachmentAccess(ctx, id);
    this.authorize(ctx, 'volume:attachment_delete', targetOf(attachment));
    this.steps.checkDeletionAllowed(ctx, [attachment]);
    const volumeId = attachment.volume_id;
    const remaining = await this.locks.run(volumeId, async () => {
      const live = await this.load.liveAttachments(volumeId);
      // A concurrent delete of the same attachment got there first.
      if (!live.some((a) => a.id === id)) throw errors.attachmentNotFound(id);
      await this.steps.releaseAttachment(volumeId, id);
      await this.steps.finishDetach(id, volumeId);
      // Detaching one attachment changes none of the others.
      return live.filter((a) => a.id !== id);
    });
    return remaining.map(toAttachmentRecord);
  }

  async getAttachment(ctx: RequestContext, id: string): Promise<AttachmentRecord> {
    return toAttachmentRecord(await this.load.attachmentRow(ctx, id));
  }

  async listAttachments(ctx: RequestContext, query: ListQuery): Promise<{ attachments: AttachmentRecord[]; count: number }> {
    const filters = compileAttachmentFilters(query.filters, ctx);
    if (filters.impossible) return { attachments: [], count: 0 };
    const order = attachmentSort(query.sort);
    let q = this.db
      .selectFrom('volume_attachment as a')
      .innerJoin('volumes as v', 'v.id', 'a.volume_id')
      .selectAll('a')
      .where('a.deleted', '=', 0);
    if (!(ctx.isAdmin && query.allTenants)) q = q.where('v.project_id', '=', ctx.projectId);
    if (filters.conditions.length > 0) q = q.where((eb) => conditionsExpression(eb, 'a', filters.conditions));
    for (const o of order) q = q.orderBy(`a.${o.column}`, o.dir);
    const rows = await q.execute();
    return { attachments: paginate(rows, query).map(toAttachmentRecord), count: rows.length };
  }
}
