// What a volume's membership of a generic volume group asks of the volume calls: a volume
// made in a group must be of one of its types and is made in its zone, while the group
// still takes volumes; a member leaves only with its group or by the group's update.

import type { Kysely } from 'kysely';
import { columnNamed, paginate, sortColumns } from './listing.js';
import type { Database, GroupRow, GroupSnapshotRow } from '../db/schema.js';
import { nowTimestamp } from '../db/schema.js';
import { CinderError, errors } from '../errors.js';
import { visibleTo } from './loading.js';
import type { ListQuery, RequestContext, VolumeTypeRecord } from './types.js';

/** Cinder's GROUP_PROCEED_STATUS: a group takes new volumes in these. */
const TAKES_VOLUMES = ['available', 'creating'];

export const groupNotFound = (id: string) => new CinderError('NOT_FOUND', `Group ${id} could not be found.`);
export const invalidGroup = (reason: string) => new CinderError('BAD_REQUEST', `Invalid Group: ${reason}`);

/** The group as the caller may see it. */
export async function visibleGroup(db: Kysely<Database>, ctx: RequestContext, id: string): Promise<GroupRow> {
  const row = await db.selectFrom('groups').selectAll().where('id', '=', id).executeTakeFirst();
  if (!visibleTo(ctx, row)) throw groupNotFound(id);
  return row;
}

/**
 * Cinder's checks on the group a new volume is made in: the type must be one of the
 * group's (a group made from a source has its source's types, so its copies pass), and
 * the group must still take volumes.
 */
export async function checkGroupForVolume(db: Kysely<Database>, group: GroupRow, type: VolumeTypeRecord): Promise<void> {
  const allowed = await db.selectFrom('group_volume_types').select('volume_type_id').where('group_id', '=', group.id).execute();
  if (!allowed.some((t) => t.volume_type_id === type.id)) {
    throw errors.invalidInput(`Invalid volume_type provided: ${type.name} (requested type must be supported by this group).`);
  }
  if (!TAKES_VOLUMES.includes(group.status)) throw refusedGroup();
}

function refusedGroup(): CinderError {
  return invalidGroup(`Originating group status must be one of '${TAKES_VOLUMES.join(', ')}' values`);
}

/**
 * In the transaction that inserts a member: a conditional write of the group's row, so a
 * delete of the group that got there first is seen, and one that comes later waits for
 * the row and then finds the member.
 */
export async function holdGroupOpen(trx: Kysely<Database>, groupId: string): Promise<void> {
  const held = await trx.updateTable('groups').set({ updated_at: nowTimestamp() }).where('id', '=', groupId).where('status', 'in', TAKES_VOLUMES).executeTakeFirst();
  if (Number(held.numUpdatedRows) > 0) return;
  const now = await trx.selectFrom('groups').select('status').where('id', '=', groupId).executeTakeFirst();
  if (!now) throw groupNotFound(groupId);
  throw refusedGroup();
}

/** Whether the volume belongs to a group, which Cinder's volume delete refuses. */
export async function inGroup(trx: Kysely<Database>, volumeId: string): Promise<boolean> {
  const row = await trx.selectFrom('volumes').select('group_id').where('id', '=', volumeId).executeTakeFirst();
  return row?.group_id != null;
}

export const groupSnapshotNotFound = (id: string) => new CinderError('NOT_FOUND', `GroupSnapshot ${id} could not be found.`);

/** The group snapshot as the caller may see it. */
export async function visibleGroupSnapshot(db: Kysely<Database>, ctx: RequestContext, id: string): Promise<GroupSnapshotRow> {
  const row = await db.selectFrom('group_snapshots').selectAll().where('id', '=', id).executeTakeFirst();
  if (!visibleTo(ctx, row)) throw groupSnapshotNotFound(id);
  return row;
}

/**
 * Polls until `settled` says the members' background work is over (it returns true), or
 * gives up after `limitMs`. Members are volumes and snapshots whose work is tracked by the
 * state machine one by one; the group's own status follows from theirs.
 */
export async function untilSettled(settled: () => Promise<boolean>, limitMs = 600_000): Promise<boolean> {
  const deadline = Date.now() + limitMs;
  while (Date.now() < deadline) {
    if (await settled()) return true;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  return false;
}

/** The columns groups and group snapshots share, which their lists filter and sort on. */
export const SHARED_LIST_COLUMNS = {
  id: 'id',
  name: 'name',
  description: 'description',
  status: 'status',
  user_id: 'user_id',
  project_id: 'project_id',
  created_at: 'created_at',
  updated_at: 'updated_at',
} as const;

/**
 * A list of groups or group snapshots: the caller's project's (every project's for an
 * administrator asking for all_tenants), exact filters on the table's columns, sorted
 * and paged. A filter naming no column finds nothing, as in Cinder.
 */
export async function listRows<R extends { id: string }>(
  db: Kysely<Database>,
  table: 'groups' | 'group_snapshots',
  ctx: RequestContext,
  query: ListQuery,
  columns: Record<string, string>,
): Promise<R[]> {
  // Both tables have the columns named here; the casts only spare Kysely a union of tables.
  let select = db.selectFrom(table as 'groups').selectAll();
  if (!(ctx.isAdmin && query.allTenants)) select = select.where('project_id', '=', ctx.projectId);
  for (const [key, value] of Object.entries(query.filters)) {
    const column = columnNamed(columns, key);
    if (!column) return [];
    select = select.where(column as 'id', '=', String(value));
  }
  for (const { column, dir } of sortColumns(query.sort, columns)) select = select.orderBy(column as 'id', dir);
  return paginate((await select.execute()) as unknown as R[], query);
}
