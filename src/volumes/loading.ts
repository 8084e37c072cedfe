// Reading the rows a request acts on, under the one visibility rule: a caller sees its own
// project's volumes, attachments and snapshots, an administrator sees all, and anything
// else is reported as not found.

import type { Kysely } from 'kysely';
import type { AttachmentRow, Database, SnapshotRow, VolumeRow } from '../db/schema.js';
import { errors } from '../errors.js';
import { Q } from './queries.js';
import { toVolumeRecords } from './records.js';
import type { RequestContext, VolumeRecord } from './types.js';

/** Whether the caller may see a row of a project: one of its own, or any for an administrator. */
export function visibleTo<T extends { project_id: string }>(ctx: RequestContext, row: T | null | undefined): row is T {
  return row != null && (ctx.isAdmin || row.project_id === ctx.projectId);
}

export class Loader {
  /** This service's id, which every volume record carries; read once at start. */
  private serviceUuid = '';

  constructor(private readonly db: Kysely<Database>) {}

  async start(): Promise<void> {
    const row = await this.db.selectFrom('service_state').select('value').where('key', '=', 'service_uuid').executeTakeFirstOrThrow();
    this.serviceUuid = row.value;
  }

  async volumeRow(ctx: RequestContext, id: string): Promise<VolumeRow> {
    const [row] = (await Q.volume(this.db, id)).rows;
    if (!visibleTo(ctx, row)) throw errors.volumeNotFound(id);
    return row;
  }

  async record(row: VolumeRow): Promise<VolumeRecord> {
    const [record] = await toVolumeRecords(this.db, [row], { serviceUuid: this.serviceUuid });
    return record!;
  }

  /** The records of a page of volumes, in a fixed number of queries. */
  records(rows: VolumeRow[]): Promise<VolumeRecord[]> {
    return toVolumeRecords(this.db, rows, { serviceUuid: this.serviceUuid });
  }

  /** The parts of the volume the attach/detach steps check, if the caller may see it. */
  async volumeSummary(ctx: RequestContext, id: string) {
    const [row] = (await Q.volumeSummary(this.db, id)).rows;
    if (!visibleTo(ctx, row)) throw errors.volumeNotFound(id);
    return row;
  }

  /** The volume's summary and read-only flags (null when there is no such volume) and its live attachments. */
  async volumeWithLive(id: string) {
    const { rows } = await Q.volumeWithLive(this.db, id);
    const live = rows.filter((row) => row.id !== null) as AttachmentRow[];
    return { volume: rows[0] ?? null, live };
  }

  /** As volumeWithLive, for a caller who must be allowed to see the volume. */
  async visibleVolumeWithLive(ctx: RequestContext, id: string) {
    const { volume, live } = await this.volumeWithLive(id);
    if (!visibleTo(ctx, volume)) throw errors.volumeNotFound(id);
    return { volume, live };
  }

  async liveAttachments(volumeId: string): Promise<AttachmentRow[]> {
    return (await Q.liveAttachments(this.db, volumeId)).rows;
  }

  /** The attachment's volume and what the deletion-safety rule looks at, if the caller may see it. */
  async attachmentAccess(ctx: RequestContext, id: string) {
    const [row] = (await Q.attachmentAccess(this.db, id)).rows;
    if (!visibleTo(ctx, row)) throw errors.attachmentNotFound(id);
    return row;
  }

  async attachmentRow(ctx: RequestContext, id: string): Promise<AttachmentRow> {
    const [row] = (await Q.attachmentWithProject(this.db, id)).rows;
    if (!visibleTo(ctx, row)) throw errors.attachmentNotFound(id);
    const { project_id: _project, ...attachment } = row;
    return attachment;
  }

  async snapshotRow(ctx: RequestContext, id: string): Promise<SnapshotRow> {
    const row = await this.db.selectFrom('snapshots').selectAll().where('id', '=', id).executeTakeFirst();
    if (!visibleTo(ctx, row)) throw errors.snapshotNotFound(id);
    return row;
  }
}
