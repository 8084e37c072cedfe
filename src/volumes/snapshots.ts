// Snapshots: create (a copy of the volume's blocks, made on its storage host), show,
// list, update, delete. A volume made from a snapshot starts in volume-lifecycle.ts; a
// cascading volume delete takes its snapshots with it (machine.ts).

import { randomUUID } from 'node:crypto';
import type { Kysely } from 'kysely';
import type { Database, SnapshotRow } from '../db/schema.js';
import { nowTimestamp, parseTimestamp } from '../db/schema.js';
import { inTransaction } from '../db/prepared.js';
import { errors } from '../errors.js';
import { targetOf, WorkflowPart } from './core.js';
import { paginate } from './listing.js';
import { snapshotUsage } from './quota-resources.js';
import { loadLimits, returnUsage, takeUsage, typeNameOf } from './quota-usage.js';
import type { CreateSnapshotRequest, RequestContext, SnapshotListQuery, SnapshotRecord } from './types.js';

/** Cinder deletes a snapshot only from these. */
export const DELETABLE_SNAPSHOT = ['available', 'error'];

/** A deleted snapshot's row goes, and what it counted against its project's quotas comes back, in one commit. */
export async function deleteSnapshotRow(db: Kysely<Database>, id: string): Promise<void> {
  await inTransaction(db, async (trx) => {
    const row = await trx
      .selectFrom('snapshots')
      .innerJoin('volumes', 'volumes.id', 'snapshots.volume_id')
      .select(['snapshots.project_id', 'snapshots.volume_size', 'volumes.volume_type_id'])
      .where('snapshots.id', '=', id)
      .executeTakeFirst();
    const deleted = await trx.deleteFrom('snapshots').where('id', '=', id).executeTakeFirst();
    if (row && Number(deleted.numDeletedRows) > 0) {
      await returnUsage(trx, row.project_id, snapshotUsage(row.volume_size, await typeNameOf(trx, row.volume_type_id)));
    }
  });
}

export function snapshotRecord(row: SnapshotRow): SnapshotRecord {
  return {
    id: row.id,
    volumeId: row.volume_id,
    projectId: row.project_id,
    userId: row.user_id,
    status: row.status,
    progress: row.progress,
    size: row.volume_size,
    name: row.display_name,
    description: row.display_description,
    metadata: JSON.parse(row.metadata) as Record<string, string>,
    groupSnapshotId: row.group_snapshot_id,
    createdAt: parseTimestamp(row.created_at)!,
    updatedAt: parseTimestamp(row.updated_at),
  };
}

/** A new snapshot's row, in `creating`, inside the transaction that takes its quota. */
export async function insertSnapshotRow(
  trx: Kysely<Database>,
  ctx: RequestContext,
  s: { id: string; volumeId: string; size: number; name?: string | null; description?: string | null; metadata?: Record<string, string>; groupSnapshotId?: string },
): Promise<void> {
  await trx
    .insertInto('snapshots')
    .values({
      id: s.id,
      volume_id: s.volumeId,
      project_id: ctx.projectId,
      user_id: ctx.userId,
      status: 'creating',
      progress: '0%',
      volume_size: s.size,
      display_name: s.name ?? null,
      display_description: s.description ?? null,
      metadata: JSON.stringify(s.metadata ?? {}),
      created_at: nowTimestamp(),
      group_snapshot_id: s.groupSnapshotId ?? null,
    })
    .execute();
}

/**
 * A conditional write of the volume's row, in the transaction that snapshots it: a delete
 * that got there first is seen, one that comes later waits for the row and then finds the
 * snapshot. `refused` names the status the volume was found in.
 */
export async function holdVolumeIn(trx: Kysely<Database>, volumeId: string, valid: string[], refused: (status: string) => Error): Promise<void> {
  const still = await trx.updateTable('volumes').set({ updated_at: nowTimestamp() }).where('id', '=', volumeId).where('status', 'in', valid).executeTakeFirst();
  if (Number(still.numUpdatedRows) > 0) return;
  const now = await trx.selectFrom('volumes').select('status').where('id', '=', volumeId).executeTakeFirst();
  if (!now) throw errors.volumeNotFound(volumeId);
  throw refused(now.status);
}

export class Snapshots extends WorkflowPart {
  async createSnapshot(ctx: RequestContext, req: CreateSnapshotRequest): Promise<SnapshotRecord> {
    const volume = await this.load.volumeRow(ctx, req.volumeId);
    this.authorize(ctx, 'volume:create_snapshot', targetOf(volume));
    if (volume.status === 'maintenance') throw errors.invalidVolume('The snapshot cannot be created when the volume is in maintenance mode.');
    if (volume.status === 'error') throw errors.invalidVolume('The snapshot cannot be created when the volume is in error status.');
    const valid = req.force ? ['available', 'in-use'] : ['available'];
    const refused = (status: string) => errors.invalidVolume(`Volume ${volume.id} status must be ${valid.join(', ')}, but current status is: ${status}.`);
    if (!valid.includes(volume.status)) throw refused(volume.status);
    const limits = await loadLimits(this.db, ctx.projectId, this.options.quotaDefaults);
    const usage = snapshotUsage(volume.size, await typeNameOf(this.db, volume.volume_type_id));
    const id = randomUUID();
    await inTransaction(this.db, async (trx) => {
      await holdVolumeIn(trx, volume.id, valid, refused);
      await takeUsage(trx, ctx.projectId, usage, limits);
      await insertSnapshotRow(trx, ctx, { id, volumeId: volume.id, size: volume.size, name: req.name, description: req.description, metadata: req.metadata });
    });
    this.machine.track('create_snapshot', id, this.makeSnapshot(id, volume.id).then(() => undefined));
    return snapshotRecord(await this.load.snapshotRow(ctx, id));
  }

  async getSnapshot(ctx: RequestContext, id: string): Promise<SnapshotRecord> {
    const row = await this.load.snapshotRow(ctx, id);
    this.authorize(ctx, 'volume:get_snapshot', targetOf(row));
    return snapshotRecord(row);
  }

  async listSnapshots(ctx: RequestContext, query: SnapshotListQuery): Promise<SnapshotRecord[]> {
    this.authorize(ctx, 'volume:get_all_snapshots');
    let q = this.db.selectFrom('snapshots').selectAll();
    if (!(ctx.isAdmin && query.allTenants)) q = q.where('project_id', '=', ctx.projectId);
    if (query.filters.status !== undefined) q = q.where('status', '=', query.filters.status);
    if (query.filters.volumeId !== undefined) q = q.where('volume_id', '=', query.filters.volumeId);
    if (query.filters.name !== undefined) q = q.where('display_name', '=', query.filters.name);
    const rows = await q.orderBy('created_at', 'desc').orderBy('id', 'desc').execute();
    return paginate(rows, query).map(snapshotRecord);
  }

  async updateSnapshot(ctx: RequestContext, id: string, patch: { name?: string | null; description?: string | null }): Promise<SnapshotRecord> {
    this.authorize(ctx, 'volume:update_snapshot', targetOf(await this.load.snapshotRow(ctx, id)));
    const set: { updated_at: string; display_name?: string | null; display_description?: string | null } = { updated_at: nowTimestamp() };
    if (patch.name !== undefined) set.display_name = patch.name;
    if (patch.description !== undefined) set.display_description = patch.description;
    await this.db.updateTable('snapshots').set(set).where('id', '=', id).execute();
    return this.getSnapshot(ctx, id);
  }

  async deleteSnapshot(ctx: RequestContext, id: string): Promise<void> {
    const snapshot = await this.load.snapshotRow(ctx, id);
    this.authorize(ctx, 'volume:delete_snapshot', targetOf(snapshot));
    const moved = await this.db
      .updateTable('snapshots')
      .set({ status: 'deleting', updated_at: nowTimestamp() })
      .where('id', '=', id)
      .where('status', 'in', DELETABLE_SNAPSHOT)
      .where('group_snapshot_id', 'is', null)
      .executeTakeFirst();
    if (Number(moved.numUpdatedRows) === 0) throw errors.invalidSnapshot('Snapshot status must be available or error and must not be part of a group.');
    this.machine.track('delete_snapshot', id, this.removeSnapshot(id, snapshot.volume_id).then(() => undefined));
  }

  /** The backend copy of a snapshot in `creating`, and the status it ends in; true when it was made. */
  makeSnapshot(id: string, volumeId: string): Promise<boolean> {
    return this.rpc.createSnapshot(volumeId, id).then(
      () => this.setSnapshotStatus(id, 'available', '100%').then(() => true),
      (err) => {
        this.logger.error({ snapshotId: id, err: (err as Error).message }, 'snapshot creation failed');
        return this.setSnapshotStatus(id, 'error').then(() => false);
      },
    );
  }

  /** The backend copy of a snapshot in `deleting` goes, then its row; true when it went. */
  removeSnapshot(id: string, volumeId: string): Promise<boolean> {
    return this.rpc.deleteSnapshot(volumeId, id).then(
      () => deleteSnapshotRow(this.db, id).then(() => true),
      (err) => {
        this.logger.error({ snapshotId: id, err: (err as Error).message }, 'snapshot deletion failed');
        return this.setSnapshotStatus(id, 'error_deleting').then(() => false);
      },
    );
  }

  private async setSnapshotStatus(id: string, status: string, progress?: string): Promise<void> {
    await this.db
      .updateTable('snapshots')
      .set({ status, updated_at: nowTimestamp(), ...(progress ? { progress } : {}) })
      .where('id', '=', id)
      .execute();
  }
}
