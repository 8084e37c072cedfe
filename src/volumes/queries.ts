// The queries every attach/detach step runs, compiled once (see prepared()).

import { sql, type Kysely } from 'kysely';
import type { Database } from '../db/schema.js';
import { prepared } from '../db/prepared.js';

/** What the attach/detach steps check, the owner (a policy rule's target) included. */
const SUMMARY_COLUMNS = ['project_id', 'user_id', 'status', 'multiattach', 'bootable', 'migration_status'] as const;

export const Q = {
  volume: prepared(1, (db: Kysely<Database>, id: string) => db.selectFrom('volumes').selectAll().where('id', '=', id)),
  /** The few columns the attach/detach steps look at, where the whole row costs several times more to read. */
  volumeSummary: prepared(1, (db: Kysely<Database>, id: string) => db.selectFrom('volumes').select(SUMMARY_COLUMNS).where('id', '=', id)),
  /**
   * The summary, the volume's read-only flags (they decide an attachment's mode) and its
   * live attachments, oldest first: one row per attachment, or one whose attachment
   * columns are null when it has none.
   */
  volumeWithLive: prepared(1, (db: Kysely<Database>, id: string) =>
    db
      .selectFrom('volumes')
      .leftJoin('volume_attachment as a', (join) => join.onRef('a.volume_id', '=', 'volumes.id').on('a.deleted', '=', 0))
      .select(SUMMARY_COLUMNS)
      .select((eb) =>
        (['readonly', 'attached_mode'] as const).map((key) =>
          eb
            .selectFrom('volume_admin_metadata as m')
            .select('m.value')
            .whereRef('m.volume_id', '=', 'volumes.id')
            .where('m.key', '=', key)
            .as(key),
        ),
      )
      .selectAll('a')
      .where('volumes.id', '=', id)
      .orderBy('a.created_at', 'asc')
      .orderBy('a.id', 'asc'),
  ),
  state: prepared(1, (db: Kysely<Database>, id: string) =>
    db
      .selectFrom('volumes as v')
      .select((eb) => [
        'v.status',
        'v.attach_status',
        'v.multiattach',
        'v.migration_status',
        'v.previous_status',
        eb
          .selectFrom('volume_attachment as a')
          .select((count) => count.fn.countAll<string | number>().as('n'))
          .whereRef('a.volume_id', '=', 'v.id')
          .where('a.deleted', '=', 0)
          .where('a.attach_status', '!=', 'detached')
          .as('live'),
      ])
      .where('v.id', '=', id),
  ),
  setAdminMeta: prepared(3, (db: Kysely<Database>, volumeId: string, key: string, value: string) =>
    db
      .insertInto('volume_admin_metadata')
      .values({ volume_id: volumeId, key, value })
      .onConflict((oc) => oc.columns(['volume_id', 'key']).doUpdateSet({ value })),
  ),
  deleteAdminMeta: prepared(2, (db: Kysely<Database>, volumeId: string, key: string) =>
    db.deleteFrom('volume_admin_metadata').where('volume_id', '=', volumeId).where('key', '=', key),
  ),
  liveAttachments: prepared(1, (db: Kysely<Database>, volumeId: string) =>
    db
      .selectFrom('volume_attachment')
      .selectAll()
      .where('volume_id', '=', volumeId)
      .where('deleted', '=', 0)
      .orderBy('created_at', 'asc')
      .orderBy('id', 'asc'),
  ),
  attachmentWithProject: prepared(1, (db: Kysely<Database>, id: string) =>
    db
      .selectFrom('volume_attachment as a')
      .innerJoin('volumes as v', 'v.id', 'a.volume_id')
      .selectAll('a')
      .select('v.project_id')
      .where('a.id', '=', id)
      .where('a.deleted', '=', 0),
  ),
  /** What deciding whether a caller may act on an attachment needs. */
  attachmentAccess: prepared(1, (db: Kysely<Database>, id: string) =>
    db
      .selectFrom('volume_attachment as a')
      .innerJoin('volumes as v', 'v.id', 'a.volume_id')
      .select(['a.volume_id', 'a.instance_uuid', 'a.connection_info', 'v.project_id', 'v.user_id'])
      .where('a.id', '=', id)
      .where('a.deleted', '=', 0),
  ),
  insertAttachment: prepared(
    8,
    (
      db: Kysely<Database>,
      id: string,
      volumeId: string,
      instanceUuid: string | null,
      attachedHost: string | null,
      mountpoint: string | null,
      attachStatus: string,
      attachMode: string,
      createdAt: string,
    ) =>
      db
        .insertInto('volume_attachment')
        .values({
          id,
          volume_id: volumeId,
          instance_uuid: instanceUuid,
          attached_host: attachedHost,
          mountpoint,
          attach_time: null,
          detach_time: null,
          attach_status: attachStatus,
          attach_mode: attachMode,
          connector: null,
          connection_info: null,
          created_at: createdAt,
          updated_at: null,
          deleted_at: null,
        })
        .returningAll(),
  ),
  connectAttachment: prepared(
    8,
    (
      db: Kysely<Database>,
      connector: string,
      connectionInfo: string,
      attachedHost: string,
      mountpoint: string,
      attachMode: string,
      attachTime: string,
      updatedAt: string,
      id: string,
    ) =>
      db
        .updateTable('volume_attachment')
        .set({
          attach_status: 'attaching',
          connector,
          connection_info: connectionInfo,
          attached_host: attachedHost,
          mountpoint,
          attach_mode: attachMode,
          attach_time: attachTime,
          updated_at: updatedAt,
        })
        .where('id', '=', id)
        .returningAll(),
  ),
  markAttached: prepared(4, (db: Kysely<Database>, attachTime: string, connector: string | null, updatedAt: string, id: string) =>
    db
      .updateTable('volume_attachment')
      .set({ attach_status: 'attached', attach_time: attachTime, connector, updated_at: updatedAt })
      .where('id', '=', id),
  ),
  completeAttachment: prepared(2, (db: Kysely<Database>, now: string, id: string) =>
    db.updateTable('volume_attachment').set({ attach_status: 'attached', updated_at: now }).where('id', '=', id).where('deleted', '=', 0),
  ),
  finishDetach: prepared(2, (db: Kysely<Database>, now: string, id: string) =>
    db
      .updateTable('volume_attachment')
      .set({ attach_status: 'detached', detach_time: now, deleted: 1, deleted_at: now, updated_at: now })
      .where('id', '=', id)
      .where('deleted', '=', 0),
  ),
  recomputeStatus: prepared(2, (db: Kysely<Database>, now: string, volumeId: string) => {
    const first = sql<string | null>`(select min(a.attach_status) from volume_attachment a where a.volume_id = volumes.id and a.deleted = 0 and a.attach_status not like 'error%')`;
    return db
      .updateTable('volumes')
      .set({
        attach_status: sql`coalesce(${first}, 'detached')`,
        status: sql`case
          when ${first} is null then
            case when (migration_status is not null and migration_status not in ('success', 'error')) or status = 'uploading'
              then status else 'available' end
          when ${first} = 'attached' then 'in-use'
          else ${first} end`,
        updated_at: now,
      })
      .where('id', '=', volumeId);
  }),
};
