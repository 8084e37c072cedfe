// Reading volumes and attachments out of the database as the domain records the API
// renders. Batched per page so a list of N volumes costs a fixed number of queries.

import type { Kysely } from 'kysely';
import type { AttachmentRow, Database, VolumeRow } from '../db/schema.js';
import { parseTimestamp } from '../db/schema.js';
import type { AttachMode, AttachmentRecord, AttachmentStatus, VolumeAttachStatus, VolumeRecord, VolumeStatus } from './types.js';

const CHUNK = 500;

function chunks<T>(items: T[]): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < items.length; i += CHUNK) out.push(items.slice(i, i + CHUNK));
  return out;
}

function parseJson(text: string | null): Record<string, unknown> | null {
  return text === null ? null : (JSON.parse(text) as Record<string, unknown>);
}

export function toAttachmentRecord(row: AttachmentRow): AttachmentRecord {
  return {
    id: row.id,
    volumeId: row.volume_id,
    instanceUuid: row.instance_uuid,
    attachedHost: row.attached_host,
    mountpoint: row.mountpoint,
    attachTime: parseTimestamp(row.attach_time),
    detachTime: parseTimestamp(row.detach_time),
    attachStatus: row.attach_status as AttachmentStatus,
    attachMode: row.attach_mode as AttachMode,
    connector: parseJson(row.connector),
    connectionInfo: parseJson(row.connection_info),
    createdAt: parseTimestamp(row.created_at)!,
  };
}

export interface RecordContext {
  serviceUuid: string;
}

export async function toVolumeRecords(db: Kysely<Database>, rows: VolumeRow[], ctx: RecordContext): Promise<VolumeRecord[]> {
  if (rows.length === 0) return [];
  const ids = rows.map((r) => r.id);
  const attachments = new Map<string, AttachmentRecord[]>();
  const metadata = new Map<string, Record<string, string>>();
  const adminMetadata = new Map<string, Record<string, string>>();
  for (const part of chunks(ids)) {
    const attachmentRows = await db
      .selectFrom('volume_attachment')
      .selectAll()
      .where('volume_id', 'in', part)
      .where('deleted', '=', 0)
      .orderBy('created_at', 'asc')
      .orderBy('id', 'asc')
      .execute();
    for (const row of attachmentRows) {
      const list = attachments.get(row.volume_id) ?? [];
      list.push(toAttachmentRecord(row));
      attachments.set(row.volume_id, list);
    }
    for (const [table, target] of [
      ['volume_metadata', metadata],
      ['volume_admin_metadata', adminMetadata],
    ] as const) {
      const kv = await db.selectFrom(table).selectAll().where('volume_id', 'in', part).orderBy('key').execute();
      for (const row of kv) {
        const entry = target.get(row.volume_id) ?? {};
        entry[row.key] = row.value;
        target.set(row.volume_id, entry);
      }
    }
  }
  const typeIds = [...new Set(rows.map((r) => r.volume_type_id))];
  const types = await db.selectFrom('volume_types').select(['id', 'name']).where('id', 'in', typeIds).execute();
  const typeNames = new Map(types.map((t) => [t.id, t.name]));
  return rows.map((row) => ({
    id: row.id,
    projectId: row.project_id,
    userId: row.user_id,
    name: row.display_name,
    description: row.display_description,
    size: row.size,
    status: row.status as VolumeStatus,
    attachStatus: row.attach_status as VolumeAttachStatus,
    migrationStatus: row.migration_status,
    availabilityZone: row.availability_zone,
    volumeTypeId: row.volume_type_id,
    volumeTypeName: typeNames.get(row.volume_type_id) ?? row.volume_type_id,
    multiattach: row.multiattach === 1,
    bootable: row.bootable === 1,
    encrypted: row.encrypted === 1,
    metadata: metadata.get(row.id) ?? {},
    adminMetadata: adminMetadata.get(row.id) ?? {},
    host: row.host,
    snapshotId: row.snapshot_id,
    sourceVolid: row.source_volid,
    groupId: row.group_id,
    consistencygroupId: row.consistencygroup_id,
    replicationStatus: row.replication_status,
    serviceUuid: ctx.serviceUuid,
    // One target per volume (tgt and the built-in target alike): hosts need no shared lock.
    sharedTargets: false,
    createdAt: parseTimestamp(row.created_at)!,
    updatedAt: parseTimestamp(row.updated_at),
    attachments: attachments.get(row.id) ?? [],
  }));
}
