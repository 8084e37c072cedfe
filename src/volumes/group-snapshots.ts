// Group snapshots: a snapshot of every volume of a group, taken together and made by the
// snapshot machinery one by one (snapshots.ts). The group snapshot is `creating` until
// each member is made, and goes with its members.

import { randomUUID } from 'node:crypto';
import type { GroupSnapshotRow } from '../db/schema.js';
import { nowTimestamp, parseTimestamp } from '../db/schema.js';
import { inTransaction } from '../db/prepared.js';
import { CinderError, errors } from '../errors.js';
import { targetOf, WorkflowPart, type WorkflowCore } from './core.js';
import type { GroupSnapshotRecord } from './group-records.js';
import { groupSnapshotNotFound, listRows, SHARED_LIST_COLUMNS, visibleGroupSnapshot } from './group-membership.js';
import type { Groups } from './groups.js';
import { snapshotUsage } from './quota-resources.js';
import { loadLimits, takeUsage, typeNameOf } from './quota-usage.js';
import { holdVolumeIn, insertSnapshotRow, type Snapshots } from './snapshots.js';
import type { ListQuery, RequestContext } from './types.js';

/** A volume is snapshotted with its group while it is in one of these (Cinder's snapshots of a group are forced). */
const SNAPSHOTTABLE = ['available', 'in-use'];

const GROUP_SNAPSHOT_COLUMNS = { ...SHARED_LIST_COLUMNS, group_id: 'group_id', group_type_id: 'group_type_id' } as const;

const invalidGroupSnapshot = (reason: string) => new CinderError('BAD_REQUEST', `Invalid GroupSnapshot: ${reason}`);

function groupSnapshotRecord(row: GroupSnapshotRow): GroupSnapshotRecord {
  return {
    id: row.id,
    groupId: row.group_id,
    projectId: row.project_id,
    groupTypeId: row.group_type_id,
    name: row.name,
    description: row.description,
    status: row.status,
    createdAt: parseTimestamp(row.created_at)!,
  };
}

export class GroupSnapshots extends WorkflowPart {
  constructor(
    core: WorkflowCore,
    private readonly groups: Groups,
    private readonly snapshots: Snapshots,
  ) {
    super(core);
  }

  private async groupSnapshotRow(ctx: RequestContext, id: string): Promise<GroupSnapshotRow> {
    const row = await visibleGroupSnapshot(this.db, ctx, id);
    this.authorize(ctx, 'group:get_group_snapshot', targetOf(row));
    return row;
  }

  async getGroupSnapshot(ctx: RequestContext, id: string): Promise<GroupSnapshotRecord> {
    return groupSnapshotRecord(await this.groupSnapshotRow(ctx, id));
  }

  async listGroupSnapshots(ctx: RequestContext, query: ListQuery): Promise<GroupSnapshotRecord[]> {
    this.authorize(ctx, 'group:get_all_group_snapshots');
    return (await listRows<GroupSnapshotRow>(this.db, 'group_snapshots', ctx, query, GROUP_SNAPSHOT_COLUMNS)).map(groupSnapshotRecord);
  }

  async createGroupSnapshot(ctx: RequestContext, req: { groupId: string; name?: string | null; description?: string | null }): Promise<GroupSnapshotRecord> {
    const group = await this.groups.groupRow(ctx, req.groupId);
    this.authorize(ctx, 'group:create_group_snapshot', targetOf(group));
    const members = await this.db.selectFrom('volumes').selectAll().where('group_id', '=', group.id).orderBy('created_at').execute();
    for (const volume of members) {
      if (volume.status === 'maintenance') throw errors.invalidVolume('The snapshot cannot be created when the volume is in maintenance mode.');
      if (volume.status === 'error') throw errors.invalidVolume('The snapshot cannot be created when the volume is in error status.');
    }
    const limits = await loadLimits(this.db, ctx.projectId, this.options.quotaDefaults);
    const id = randomUUID();
    const taken = await Promise.all(
      members.map(async (volume) => ({ volume, snapshotId: randomUUID(), usage: snapshotUsage(volume.size, await typeNameOf(this.db, volume.volume_type_id)) })),
    );
    await inTransaction(this.db, async (trx) => {
      await trx
        .insertInto('group_snapshots')
        .values({
          id,
          group_id: group.id,
          project_id: ctx.projectId,
          user_id: ctx.userId,
          name: req.name ?? null,
          description: req.description ?? null,
          status: 'creating',
          group_type_id: group.group_type_id,
          created_at: nowTimestamp(),
        })
        .execute();
      for (const { volume, snapshotId, usage } of taken) {
        const refused = (status: string) =>
          errors.invalidVolume(`Volume ${volume.id} status must be ${SNAPSHOTTABLE.join(', ')}, but current status is: ${status}.`);
        await holdVolumeIn(trx, volume.id, SNAPSHOTTABLE, refused);
        await takeUsage(trx, ctx.projectId, usage, limits);
        // The members carry the group snapshot's name and description, as in Cinder.
        await insertSnapshotRow(trx, ctx, { id: snapshotId, volumeId: volume.id, size: volume.size, name: req.name, description: req.description, groupSnapshotId: id });
      }
    });
    const made = Promise.all(taken.map(({ volume, snapshotId }) => this.snapshots.makeSnapshot(snapshotId, volume.id)));
    this.machine.track('create_group_snapshot', id, made.then((results) => this.setStatus(id, results.every(Boolean) ? 'available' : 'error', ['creating'])));
    return groupSnapshotRecord(await visibleGroupSnapshot(this.db, ctx, id));
  }

  async deleteGroupSnapshot(ctx: RequestContext, id: string): Promise<void> {
    const groupSnapshot = await this.groupSnapshotRow(ctx, id);
    this.authorize(ctx, 'group:delete_group_snapshot', targetOf(groupSnapshot));
    const members = await inTransaction(this.db, async (trx) => {
      // Not while a group is being made from it.
      const moved = await trx
        .updateTable('group_snapshots')
        .set({ status: 'deleting', updated_at: nowTimestamp() })
        .where('id', '=', id)
        .where('status', 'in', ['available', 'error'])
        .where((eb) => eb.not(eb.exists(eb.selectFrom('groups').select('groups.id').where('groups.group_snapshot_id', '=', id).where('groups.status', '=', 'creating'))))
        .executeTakeFirst();
      if (Number(moved.numUpdatedRows) === 0) {
        throw invalidGroupSnapshot('GroupSnapshot status must be available or error, and no Group can be currently using it as source for its creation.');
      }
      await trx.updateTable('snapshots').set({ status: 'deleting', updated_at: nowTimestamp() }).where('group_snapshot_id', '=', id).execute();
      return trx.selectFrom('snapshots').select(['id', 'volume_id']).where('group_snapshot_id', '=', id).execute();
    });
    const removed = Promise.all(members.map((s) => this.snapshots.removeSnapshot(s.id, s.volume_id)));
    this.machine.track(
      'delete_group_snapshot',
      id,
      removed.then(async (results) => {
        if (results.every(Boolean)) await this.db.deleteFrom('group_snapshots').where('id', '=', id).execute();
        else await this.setStatus(id, 'error_deleting', ['deleting']);
      }),
    );
  }

  /** An administrator's repair: the status is set whatever it was. */
  async resetGroupSnapshotStatus(ctx: RequestContext, id: string, status: string): Promise<void> {
    const groupSnapshot = await this.groupSnapshotRow(ctx, id);
    this.authorize(ctx, 'group:reset_group_snapshot_status', targetOf(groupSnapshot));
    const reset = await this.db.updateTable('group_snapshots').set({ status, updated_at: nowTimestamp() }).where('id', '=', id).executeTakeFirst();
    if (Number(reset.numUpdatedRows) === 0) throw groupSnapshotNotFound(id);
  }

  private async setStatus(id: string, to: string, from: string[]): Promise<void> {
    await this.db.updateTable('group_snapshots').set({ status: to, updated_at: nowTimestamp() }).where('id', '=', id).where('status', 'in', from).execute();
  }
}
