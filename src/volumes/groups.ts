// Generic volume groups: create (empty, or from a source group or a group snapshot, whose
// volumes are cloned into it), show, list, update (name, description and membership),
// delete (with its volumes when asked) and reset_status. A volume's membership is its
// group_id; a new volume joins a group in volume-lifecycle.ts (group-membership.ts).

import { randomUUID } from 'node:crypto';
import { sql, type Kysely } from 'kysely';
import type { Database, GroupRow, VolumeRow } from '../db/schema.js';
import { nowTimestamp, parseTimestamp } from '../db/schema.js';
import { inTransaction } from '../db/prepared.js';
import { errors, pyRepr, pyTuple } from '../errors.js';
import { targetOf, WorkflowPart, type WorkflowCore } from './core.js';
import type { CreateGroupFromSourceRequest, CreateGroupRequest, GroupRecord, UpdateGroupRequest } from './group-records.js';
import { groupNotFound, invalidGroup, listRows, SHARED_LIST_COLUMNS, untilSettled, visibleGroup, visibleGroupSnapshot } from './group-membership.js';
import type { GroupTypes } from './group-types.js';
import { GROUP_USAGE } from './quota-resources.js';
import { loadLimits, returnUsage, takeUsage } from './quota-usage.js';
import type { Effect } from './states.js';
import type { CreateVolumeRequest, ListQuery, RequestContext } from './types.js';
import type { VolumeLifecycle } from './volume-lifecycle.js';
import type { VolumeTypes } from './volume-types.js';

/** Cinder's VALID_ADD_VOL_TO_GROUP_STATUS and VALID_REMOVE_VOL_FROM_GROUP_STATUS. */
const ADDABLE = ['available', 'in-use'];
const REMOVABLE = ['available', 'in-use', 'error', 'error_deleting'];
/** Cinder deletes a group without delete-volumes only from these. */
const DELETABLE_GROUP = ['available', 'error'];

/** The columns of Cinder's groups table that lists filter and sort on. */
const GROUP_COLUMNS = {
  ...SHARED_LIST_COLUMNS,
  availability_zone: 'availability_zone',
  group_type_id: 'group_type_id',
  group_snapshot_id: 'group_snapshot_id',
  source_group_id: 'source_group_id',
} as const;

/** add_volumes and remove_volumes as Cinder reads them: commas at either end dropped, then split. */
function volumeList(raw: string | null | undefined): string[] {
  if (!raw) return [];
  const trimmed = raw.replace(/^,+|,+$/g, '');
  return trimmed.split(',');
}

export class Groups extends WorkflowPart {
  constructor(
    core: WorkflowCore,
    private readonly groupTypes: GroupTypes,
    private readonly volumeTypes: VolumeTypes,
    private readonly lifecycle: VolumeLifecycle,
  ) {
    super(core);
  }

  private async records(rows: GroupRow[]): Promise<GroupRecord[]> {
    if (rows.length === 0) return [];
    const ids = rows.map((r) => r.id);
    const [types, volumes] = await Promise.all([
      this.db.selectFrom('group_volume_types').select(['group_id', 'volume_type_id']).where('group_id', 'in', ids).orderBy('volume_type_id').execute(),
      this.db.selectFrom('volumes').select(['group_id', 'id']).where('group_id', 'in', ids).orderBy('created_at').execute(),
    ]);
    return rows.map((row) => ({
      id: row.id,
      projectId: row.project_id,
      name: row.name,
      description: row.description,
      status: row.status,
      availabilityZone: row.availability_zone,
      groupTypeId: row.group_type_id,
      volumeTypeIds: types.filter((t) => t.group_id === row.id).map((t) => t.volume_type_id),
      volumeIds: volumes.filter((v) => v.group_id === row.id).map((v) => v.id),
      groupSnapshotId: row.group_snapshot_id,
      sourceGroupId: row.source_group_id,
      createdAt: parseTimestamp(row.created_at)!,
    }));
  }

  private async record(row: GroupRow): Promise<GroupRecord> {
    return (await this.records([row]))[0]!;
  }

  /** The group, if the caller may see it and get it (Cinder's group_api.get). */
  async groupRow(ctx: RequestContext, id: string): Promise<GroupRow> {
    const row = await visibleGroup(this.db, ctx, id);
    this.authorize(ctx, 'group:get', targetOf(row));
    return row;
  }

  async getGroup(ctx: RequestContext, id: string): Promise<GroupRecord> {
    return this.record(await this.groupRow(ctx, id));
  }

  async listGroups(ctx: RequestContext, query: ListQuery): Promise<GroupRecord[]> {
    this.authorize(ctx, 'group:get_all');
    return this.records(await listRows<GroupRow>(this.db, 'groups', ctx, query, GROUP_COLUMNS));
  }

  /** Cinder's availability zone check: a group is made in this service's zone. */
  private zoneOf(requested: string | null | undefined): string {
    const zone = requested ?? this.options.availabilityZone;
    if (zone !== this.options.availabilityZone) throw errors.invalidInput(`Availability zone '${zone}' is invalid.`);
    return zone;
  }

  /** The group's row and its volume types, with the groups quota taken, in one commit. */
  private async insertGroup(
    ctx: RequestContext,
    g: { name?: string | null; description?: string | null; zone: string; groupTypeId: string; volumeTypeIds: string[]; groupSnapshotId?: string; sourceGroupId?: string },
  ): Promise<string> {
    const limits = await loadLimits(this.db, ctx.projectId, this.options.quotaDefaults);
    const id = randomUUID();
    await inTransaction(this.db, async (trx) => {
      await takeUsage(trx, ctx.projectId, GROUP_USAGE, limits);
      await trx
        .insertInto('groups')
        .values({
          id,
          project_id: ctx.projectId,
          user_id: ctx.userId,
          name: g.name ?? null,
          description: g.description ?? null,
          status: 'creating',
          availability_zone: g.zone,
          group_type_id: g.groupTypeId,
          group_snapshot_id: g.groupSnapshotId ?? null,
          source_group_id: g.sourceGroupId ?? null,
          created_at: nowTimestamp(),
        })
        .execute();
      if (g.volumeTypeIds.length > 0) {
        await trx
          .insertInto('group_volume_types')
          .values(g.volumeTypeIds.map((volume_type_id) => ({ group_id: id, volume_type_id })))
          .execute();
      }
    });
    return id;
  }

  private async setStatus(id: string, to: string, from: string[]): Promise<boolean> {
    const moved = await this.db
      .updateTable('groups')
      .set({ status: to, updated_at: nowTimestamp() })
      .where('id', '=', id)
      .where('status', 'in', from)
      .executeTakeFirst();
    return Number(moved.numUpdatedRows) > 0;
  }

  async createGroup(ctx: RequestContext, req: CreateGroupRequest): Promise<GroupRecord> {
    this.authorize(ctx, 'group:create');
    const volumeTypeIds: string[] = [];
    for (const name of req.volumeTypes) volumeTypeIds.push((await this.volumeTypes.resolveType(name)).id);
    const groupType = await this.groupTypes.resolve(ctx, req.groupType);
    const zone = this.zoneOf(req.availabilityZone);
    const id = await this.insertGroup(ctx, { name: req.name, description: req.description, zone, groupTypeId: groupType.id, volumeTypeIds });
    // An empty group needs nothing of a storage host: it is ready as soon as it is recorded.
    await this.setStatus(id, 'available', ['creating']);
    return this.record(await visibleGroup(this.db, ctx, id));
  }

  /**
   * A group made of copies: a volume from each snapshot of a group snapshot, or a clone of
   * each volume of a source group. It is `creating` until every copy is made, and ends
   * `available`, or `error` if a copy failed.
   */
  async createGroupFromSource(ctx: RequestContext, req: CreateGroupFromSourceRequest): Promise<GroupRecord> {
    this.authorize(ctx, 'group:create');
    const copies: CreateVolumeRequest[] = [];
    let source: GroupRow;
    if (req.groupSnapshotId) {
      const groupSnapshot = await visibleGroupSnapshot(this.db, ctx, req.groupSnapshotId);
      this.authorize(ctx, 'group:get_group_snapshot', targetOf(groupSnapshot));
      source = await this.groupRow(ctx, groupSnapshot.group_id);
      const snapshots = await this.db
        .selectFrom('snapshots')
        .innerJoin('volumes', 'volumes.id', 'snapshots.volume_id')
        .select(['snapshots.id', 'snapshots.volume_size', 'volumes.volume_type_id'])
        .where('snapshots.group_snapshot_id', '=', groupSnapshot.id)
        .orderBy('snapshots.created_at')
        .execute();
      if (snapshots.length === 0) throw invalidGroup('Group snapshot is empty. No group will be created.');
      for (const s of snapshots) copies.push({ size: s.volume_size, volumeType: s.volume_type_id, snapshotId: s.id });
    } else {
      source = await this.groupRow(ctx, req.sourceGroupId!);
      const volumes = await this.membersOf(source.id);
      if (volumes.length === 0) throw invalidGroup('Source Group is empty. No group will be created.');
      for (const v of volumes) copies.push({ size: v.size, volumeType: v.volume_type_id, sourceVolid: v.id });
    }
    const volumeTypeIds = (await this.record(source)).volumeTypeIds;
    const id = await this.insertGroup(ctx, {
      name: req.name,
      description: req.description,
      zone: source.availability_zone,
      groupTypeId: source.group_type_id,
      volumeTypeIds,
      ...(req.groupSnapshotId ? { groupSnapshotId: req.groupSnapshotId } : { sourceGroupId: source.id }),
    });
    let made = 0;
    try {
      for (const copy of copies) {
        await this.lifecycle.createVolume(ctx, { ...copy, groupId: id });
        made++;
      }
    } catch (err) {
      // Refused before any copy was made, the group goes as if it had not been asked for;
      // later, the copies made stay in it, which a delete with delete-volumes removes.
      if (made === 0) await inTransaction(this.db, async (trx) => this.forgetGroup(trx, await visibleGroup(trx, ctx, id)));
      else await this.setStatus(id, 'error', ['creating']);
      throw err;
    }
    this.machine.track('create_group', id, this.settleCreation(id));
    return this.record(await visibleGroup(this.db, ctx, id));
  }

  private async settleCreation(id: string): Promise<void> {
    let failed = false;
    const settled = await untilSettled(async () => {
      const members = await this.db.selectFrom('volumes').select('status').where('group_id', '=', id).execute();
      failed = members.some((m) => m.status !== 'available' && m.status !== 'creating');
      return !members.some((m) => m.status === 'creating');
    });
    await this.setStatus(id, settled && !failed ? 'available' : 'error', ['creating']);
  }

  private membersOf(groupId: string, db: Kysely<Database> = this.db): Promise<VolumeRow[]> {
    return db.selectFrom('volumes').selectAll().where('group_id', '=', groupId).orderBy('created_at').execute();
  }

  async updateGroup(ctx: RequestContext, id: string, req: UpdateGroupRequest): Promise<void> {
    const group = await this.groupRow(ctx, id);
    this.authorize(ctx, 'group:update', targetOf(group));
    // A name or description equal to the group's own is no change, as in Cinder.
    const name = req.name === group.name ? null : (req.name ?? null);
    const description = req.description === group.description ? null : (req.description ?? null);
    const toAdd = volumeList(req.addVolumes);
    const toRemove = volumeList(req.removeVolumes);
    const inBoth = toAdd.filter((v) => toRemove.includes(v));
    if (inBoth.length > 0) throw errors.invalidVolume(`UUIDs ${pyRepr(inBoth)} are in both add and remove volume list.`);
    const members = await this.membersOf(group.id);
    const adding = toAdd.length > 0 ? await this.checkAdditions(ctx, group, members, toAdd) : [];
    const removing = toRemove.length > 0 ? this.checkRemovals(group, members, toRemove) : [];
    if (name === null && description === null && adding.length === 0 && removing.length === 0) {
      throw invalidGroup(`Cannot update group ${group.id} because no valid name, description, add_volumes, or remove_volumes were provided.`);
    }
    const set: { updated_at: string; name?: string; description?: string } = { updated_at: nowTimestamp() };
    if (name !== null) set.name = name;
    if (description !== null) set.description = description;
    await inTransaction(this.db, async (trx) => {
      let update = trx.updateTable('groups').set(set).where('id', '=', group.id);
      // Membership changes only in an available group; each volume's move is its own
      // conditional write, so a volume that changed state since it was checked fails the update.
      if (adding.length > 0 || removing.length > 0) update = update.where('status', '=', 'available');
      const moved = await update.executeTakeFirst();
      if (Number(moved.numUpdatedRows) === 0) throw invalidGroup('Group status must be available.');
      for (const volumeId of adding) await this.moveVolume(trx, volumeId, group, 'add');
      for (const volumeId of removing) await this.moveVolume(trx, volumeId, group, 'remove');
    });
  }

  private async moveVolume(trx: Kysely<Database>, volumeId: string, group: GroupRow, how: 'add' | 'remove'): Promise<void> {
    let update = trx.updateTable('volumes').set({ group_id: how === 'add' ? group.id : null, updated_at: nowTimestamp() }).where('id', '=', volumeId);
    update =
      how === 'add'
        ? update.where('group_id', 'is', null).where('project_id', '=', group.project_id).where('status', 'in', ADDABLE)
        : update.where('group_id', '=', group.id).where('status', 'in', REMOVABLE);
    const moved = await update.executeTakeFirst();
    if (Number(moved.numUpdatedRows) > 0) return;
    const now = await trx.selectFrom('volumes').selectAll().where('id', '=', volumeId).executeTakeFirst();
    const refusal = how === 'add' ? this.refusedAddition(group, volumeId, now) : this.refusedRemoval(group, volumeId, now?.group_id === group.id ? now : undefined);
    throw refusal ?? invalidGroup('Group status must be available.');
  }

  /** Cinder's _validate_add_volumes: the volumes not yet in the group that may join it. */
  private async checkAdditions(ctx: RequestContext, group: GroupRow, members: VolumeRow[], wanted: string[]): Promise<string[]> {
    const allowedTypes = (await this.record(group)).volumeTypeIds;
    const adding: string[] = [];
    for (const volumeId of wanted) {
      if (members.some((m) => m.id === volumeId) || adding.includes(volumeId)) continue;
      const volume = await this.db.selectFrom('volumes').selectAll().where('id', '=', volumeId).executeTakeFirst();
      const visible = volume && (ctx.isAdmin || volume.project_id === ctx.projectId) ? volume : undefined;
      const refusal = this.refusedAddition(group, volumeId, visible, allowedTypes);
      if (refusal) throw refusal;
      adding.push(volumeId);
    }
    return adding;
  }

  /** Why a volume may not join the group, in Cinder's order of checks; null when it may. */
  private refusedAddition(group: GroupRow, volumeId: string, volume: VolumeRow | undefined, allowedTypes?: string[]) {
    const cannot = `Cannot add volume ${volumeId} to group ${group.id}`;
    if (!volume) return errors.invalidVolume(`${cannot} because volume cannot be found.`);
    if (volume.group_id) return errors.invalidVolume(`${cannot} because it is already in group ${volume.group_id}.`);
    if (volume.project_id !== group.project_id) return errors.invalidVolume(`${cannot} as they belong to different projects.`);
    if (allowedTypes && !allowedTypes.includes(volume.volume_type_id)) {
      return errors.invalidVolume(`${cannot} because volume type ${volume.volume_type_id} is not supported by the group.`);
    }
    if (!ADDABLE.includes(volume.status)) {
      return errors.invalidVolume(`${cannot} because volume is in an invalid state: ${volume.status}. Valid states are: ${pyTuple(ADDABLE)}.`);
    }
    return null;
  }

  /** Cinder's _validate_remove_volumes: every volume named must be a member in a state that may leave. */
  private checkRemovals(group: GroupRow, members: VolumeRow[], wanted: string[]): string[] {
    for (const volumeId of wanted) {
      const refusal = this.refusedRemoval(group, volumeId, members.find((m) => m.id === volumeId));
      if (refusal) throw refusal;
    }
    return [...new Set(wanted)];
  }

  private refusedRemoval(group: GroupRow, volumeId: string, member: VolumeRow | undefined) {
    const cannot = `Cannot remove volume ${volumeId} from group ${group.id}`;
    if (!member) return errors.invalidVolume(`${cannot} because it is not in the group.`);
    if (!REMOVABLE.includes(member.status)) {
      return errors.invalidVolume(`${cannot} because volume is in an invalid state: ${member.status}. Valid states are: ${pyTuple(REMOVABLE)}.`);
    }
    return null;
  }

  /**
   * Cinder's group delete: refused while the group has group snapshots, or (without
   * deleteVolumes) volumes; with deleteVolumes its volumes go too, unless one is attached
   * or has snapshots. The group's row goes when its last volume has.
   */
  async deleteGroup(ctx: RequestContext, id: string, deleteVolumes: boolean): Promise<void> {
    const group = await this.groupRow(ctx, id);
    this.authorize(ctx, 'group:delete', targetOf(group));
    if (!deleteVolumes && !DELETABLE_GROUP.includes(group.status)) {
      throw invalidGroup(`Group status must be available or error, but current status is: ${group.status}`);
    }
    if (await this.db.selectFrom('group_snapshots').select('id').where('group_id', '=', group.id).executeTakeFirst()) {
      throw invalidGroup('Group has existing snapshots.');
    }
    const members = await this.membersOf(group.id);
    if (members.length > 0 && !deleteVolumes) {
      throw invalidGroup(`Group ${group.id} still contains volumes. The delete-volumes flag is required to delete it.`);
    }
    for (const volume of members) {
      if (volume.attach_status === 'attached') throw invalidGroup(`Volume in group ${group.id} is attached. Need to detach first.`);
      if (await this.db.selectFrom('snapshots').select('id').where('volume_id', '=', volume.id).executeTakeFirst()) {
        throw invalidGroup('Volume in group still has dependent snapshots.');
      }
    }
    const started = await inTransaction(this.db, async (trx) => {
      let update = trx
        .updateTable('groups')
        .set({ status: 'deleting', updated_at: nowTimestamp() })
        .where('id', '=', group.id)
        .where((eb) =>
          eb.and([
            eb.not(eb.exists(eb.selectFrom('group_snapshots').select('id').where('group_id', '=', group.id))),
            eb.not(eb.exists(eb.selectFrom('groups as copy').select('copy.id').where('copy.source_group_id', '=', group.id).where('copy.status', '=', 'creating'))),
            eb.not(
              eb.exists(
                eb
                  .selectFrom('volumes')
                  .select('volumes.id')
                  .where('volumes.group_id', '=', group.id)
                  .where((v) =>
                    deleteVolumes
                      ? v.or([v('volumes.attach_status', '=', 'attached'), v.exists(v.selectFrom('snapshots').select('snapshots.id').whereRef('snapshots.volume_id', '=', 'volumes.id'))])
                      : sql<boolean>`1 = 1`,
                  ),
              ),
            ),
          ]),
        );
      if (!deleteVolumes) update = update.where('status', 'in', DELETABLE_GROUP);
      const moved = await update.executeTakeFirst();
      if (Number(moved.numUpdatedRows) === 0) {
        const reason = deleteVolumes
          ? 'Group status must be available or error and must not have dependent group snapshots'
          : 'Group must not have attached volumes, volumes with snapshots, or dependent group snapshots';
        throw invalidGroup(`Cannot delete group ${group.id}. ${reason}, and it cannot be the source for an ongoing group or group snapshot creation.`);
      }
      const work: Array<[string, readonly Effect[]]> = [];
      for (const volume of await this.membersOf(group.id, trx)) {
        // Cinder moves a group's volumes to deleting whatever their status.
        const effects = await this.machine.apply('force_delete', volume.id, trx);
        if (effects) work.push([volume.id, effects]);
      }
      if (work.length === 0) await this.forgetGroup(trx, group);
      return work;
    });
    if (started.length === 0) return;
    for (const [volumeId, effects] of started) this.machine.runEffects(effects, volumeId, {});
    this.machine.track('delete_group', group.id, this.settleDeletion(group));
  }

  private async settleDeletion(group: GroupRow): Promise<void> {
    let stuck = false;
    const settled = await untilSettled(async () => {
      const members = await this.db.selectFrom('volumes').select('status').where('group_id', '=', group.id).execute();
      stuck = members.some((m) => m.status !== 'deleting');
      return members.length === 0 || stuck;
    });
    if (!settled || stuck) {
      await this.setStatus(group.id, 'error_deleting', ['deleting']);
      return;
    }
    await inTransaction(this.db, (trx) => this.forgetGroup(trx, group));
  }

  /** The group's rows go, and its place in the groups quota comes back, in the caller's commit. */
  private async forgetGroup(trx: Kysely<Database>, group: GroupRow): Promise<void> {
    await trx.deleteFrom('group_volume_types').where('group_id', '=', group.id).execute();
    const deleted = await trx.deleteFrom('groups').where('id', '=', group.id).executeTakeFirst();
    if (Number(deleted.numDeletedRows) > 0) await returnUsage(trx, group.project_id, GROUP_USAGE);
  }

  /** An administrator's repair: the status is set whatever it was. */
  async resetGroupStatus(ctx: RequestContext, id: string, status: string): Promise<void> {
    const group = await this.groupRow(ctx, id);
    this.authorize(ctx, 'group:reset_status', targetOf(group));
    const reset = await this.db.updateTable('groups').set({ status, updated_at: nowTimestamp() }).where('id', '=', group.id).executeTakeFirst();
    if (Number(reset.numUpdatedRows) === 0) throw groupNotFound(id);
  }
}
