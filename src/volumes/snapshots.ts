// Snapshots: create (a copy of the volume's blocks, made on its storage host), show,
// list, update, delete. A volume made from a snapshot starts in volume-lifecycle.ts; a
// cascading volume delete takes its snapshots with it (machine.ts). Status actions are in
// snapshot-actions.ts, metadata in snapshot-metadata.ts.

import { randomUUID } from 'node:crypto';
import type { Kysely } from 'kysely';
import type { Database, SnapshotRow } from '../db/schema.js';
import { nowTimestamp, parseTimestamp } from '../db/schema.js';
import { inTransaction } from '../db/prepared.js';
import { errors } from '../errors.js';
import { targetOf, WorkflowPart } from './core.js';
import { assertNotFrozen } from './frozen.js';
import { compileSnapshotFilters, conditionsExpression, paginate, SNAPSHOT_VOLUME_COLUMNS, snapshotSort } from './listing.js';
import { snapshotUsage } from './quota-resources.js';
import { loadLimits, returnUsage, takeUsage, typeNameOf } from './quota-usage.js';
import type { CreateSnapshotRequest, ListQuery, RequestContext, SnapshotRecord } from './types.js';

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

/** The snapshot's user metadata, kept as one JSON object in its row. */
export function metadataOf(row: Pick<SnapshotRow, 'metadata'>): Record<string, string> {
  return JSON.parse(row.metadata) as Record<string, string>;
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
    metadata: metadataOf(row),
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
    if (req.volumeId === null) throw errors.volumeNotFound('None');
    const volume = await this.load.volumeRow(ctx, req.volumeId);
    this.authorize(ctx, 'volume:create_snapshot', targetOf(volume));
    await assertNotFrozen(this.db, volume.id);
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

  async listSnapshots(ctx: RequestContext, query: ListQuery): Promise<{ snapshots: SnapshotRecord[]; count: number }> {
    this.authorize(ctx, 'volume:get_all_snapshots');
    const filters = compileSnapshotFilters(query.filters, ctx);
    if (filters.impossible) return { snapshots: [], count: 0 };
    const onVolume = filters.conditions.filter((c) => SNAPSHOT_VOLUME_COLUMNS.has(c.column));
    const own = filters.conditions.filter((c) => !SNAPSHOT_VOLUME_COLUMNS.has(c.column));
    let q = this.db.selectFrom('snapshots as s').innerJoin('volumes as v', 'v.id', 's.volume_id').selectAll('s');
    if (!(ctx.isAdmin && query.allTenants)) q = q.where('s.project_id', '=', ctx.projectId);
    if (own.length > 0) q = q.where((eb) => conditionsExpression(eb, 's', own));
    if (onVolume.length > 0) q = q.where((eb) => conditionsExpression(eb, 'v', onVolume));
    for (const o of snapshotSort(query.sort)) q = q.orderBy(`s.${o.column}`, o.dir);
    // Metadata is a JSON document per row, so its filter is applied to the rows read.
    const wanted = Object.entries(filters.metadata);
    const rows = (await q.execute()).filter((row) => {
      const metadata = metadataOf(row);
      return wanted.every(([key, value]) => metadata[key] === value);
    });
    if (query.marker !== undefined && !rows.some((row) => row.id === query.marker)) throw errors.snapshotNotFound(query.marker);
    return { snapshots: paginate(rows, query).map(snapshotRecord), count: rows.length };
  }

  async updateSnapshot(ctx: RequestContext, id: string, patch: { name?: string | null; description?: string | null }): Promise<SnapshotRecord> {
    this.authorize(ctx, 'volume:update_snapshot', targetOf(await this.load.snapshotRow(ctx, id)));
    const set: { updated_at: string; display_name?: string | null; display_description?: string | null } = { updated_at: nowTimestamp() };
    if (patch.name !== undefined) set.display_name = patch.name;
    if (patch.description !== undefined) set.display_description = patch.description;
    await this.db.updateTable('snapshots').set(set).where('id', '=', id).execute();
    return this.getSnapshot(ctx, id);
  }

  async deleteSnapshot(ctx: RequestContext, id: string, opts: { force: boolean } = { force: false }): Promise<void> {
    const snapshot = await this.load.snapshotRow(ctx, id);
    if (opts.force) this.authorize(ctx, 'volume_extension:snapshot_admin_actions:force_delete', targetOf(snapshot));
    this.authorize(ctx, 'volume:delete_snapshot', targetOf(snapshot));
    await assertNotFrozen(this.db, snapshot.volume_id);
    // A group snapshot's member goes only with its group snapshot, forced or not.
    let move = this.db.updateTable('snapshots').set({ status: 'deleting', updated_at: nowTimestamp() }).where('id', '=', id).where('group_snapshot_id', 'is', null);
    if (!opts.force) move = move.where('status', 'in', DELETABLE_SNAPSHOT);
    const moved = await move.executeTakeFirst();
    if (Number(moved.numUpdatedRows) === 0) {
      // Only a forced delete that lost the row to another one finds nothing to move.
      if (opts.force && snapshot.group_snapshot_id === null) throw errors.snapshotNotFound(id);
      // Cinder's words, with no status to name when forced.
      throw errors.invalidSnapshot(`Snapshot ${opts.force ? '' : 'status must be available or error and'} must not be part of a group.`);
    }
    this.machine.track('delete_snapshot', id, this.removeSnapshot(id, snapshot.volume_id).then(() => undefined));
  }

  /** The backend copy of a snapshot in `creating`, and the status it ends in; true when it was made. */
  makeSnapshot(id: string, volumeId: string): Promise<boolean> {
    return this.rpc.createSnapshot(volumeId, id).then(
      () => this.finishStep(id, 'creating', 'available', '100%').then(() => true),
      (err) => {
        this.logger.error({ snapshotId: id, err: (err as Error).message }, 'snapshot creation failed');
        return this.finishStep(id, 'creating', 'error').then(() => false);
      },
    );
  }

  /** The backend copy of a snapshot in `deleting` goes, then its row; true when it went. */
  removeSnapshot(id: string, volumeId: string): Promise<boolean> {
    return this.rpc.deleteSnapshot(volumeId, id).then(
      () => deleteSnapshotRow(this.db, id).then(() => true),
      (err) => {
        this.logger.error({ snapshotId: id, err: (err as Error).message }, 'snapshot deletion failed');
        return this.finishStep(id, 'deleting', 'error_deleting').then(() => false);
      },
    );
  }

  /** A storage-host step's outcome, unless the snapshot was moved on meanwhile (reset, forced delete). */
  private async finishStep(id: string, from: string, status: string, progress?: string): Promise<void> {
    await this.db
      .updateTable('snapshots')
      .set({ status, updated_at: nowTimestamp(), ...(progress ? { progress } : {}) })
      .where('id', '=', id)
      .where('status', '=', from)
      .execute();
  }
}
