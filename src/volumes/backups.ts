// Backups: create (of a volume, or of one of its snapshots; full or incremental), show,
// list, update, delete, restore (into a new volume or an existing one), export and import
// of the record, and an administrator's status reset. The blocks are copied on the
// volume's storage host (manager/backups.ts); here are the statuses, quotas and records.

import { randomUUID } from 'node:crypto';
import { sql, type Kysely } from 'kysely';
import type { BackupLocation } from '../backups/driver.js';
import type { BackupRow, Database } from '../db/schema.js';
import { nowTimestamp, parseTimestamp } from '../db/schema.js';
import { inTransaction } from '../db/prepared.js';
import { errors } from '../errors.js';
import type { BackupExport, BackupRecord, CreateBackupRequest, RestoreRecord, UpdateBackupRequest } from './backup-types.js';
import { targetOf, WorkflowPart, type WorkflowCore } from './core.js';
import { columnNamed, paginate, sortColumns } from './listing.js';
import { visibleTo } from './loading.js';
import { backupUsage } from './quota-resources.js';
import { loadLimits, returnUsage, takeUsage, type Limits } from './quota-usage.js';
import type { ListQuery, RequestContext } from './types.js';
import type { VolumeLifecycle } from './volume-lifecycle.js';

/** Where a backup's objects go when the caller names no container. */
const DEFAULT_CONTAINER = 'backups';
/** Cinder's fail_reason column holds this much. */
const FAIL_REASON_LENGTH = 255;
/** How long a restore waits for the volume it made to leave `creating`. */
const NEW_VOLUME_WAIT_MS = 120_000;

type BackupColumn = keyof Database['backups'];

/** The columns a list may filter and sort on, by their wire names. */
const BACKUP_COLUMNS: Record<string, BackupColumn> = {
  id: 'id',
  name: 'display_name',
  display_name: 'display_name',
  description: 'display_description',
  display_description: 'display_description',
  status: 'status',
  volume_id: 'volume_id',
  snapshot_id: 'snapshot_id',
  project_id: 'project_id',
  user_id: 'user_id',
  availability_zone: 'availability_zone',
  container: 'container',
  size: 'size',
  object_count: 'object_count',
  parent_id: 'parent_id',
  fail_reason: 'fail_reason',
  data_timestamp: 'data_timestamp',
  created_at: 'created_at',
  updated_at: 'updated_at',
};
/** Cinder's resource_filters.json for backups: what a caller that is not an administrator may filter on. */
const USER_BACKUP_FILTERS = ['name', 'status', 'volume_id'];

/** What a restore gives back to the volume besides its blocks. */
interface VolumeMeta {
  metadata: Record<string, string>;
  bootable: boolean;
}

function backupRecord(row: BackupRow): BackupRecord {
  return {
    id: row.id,
    volumeId: row.volume_id,
    snapshotId: row.snapshot_id,
    projectId: row.project_id,
    userId: row.user_id,
    status: row.status,
    failReason: row.fail_reason,
    name: row.display_name,
    description: row.display_description,
    availabilityZone: row.availability_zone,
    container: row.container,
    size: row.size,
    objectCount: row.object_count,
    isIncremental: row.parent_id !== null,
    hasDependentBackups: row.num_dependent_backups > 0,
    metadata: JSON.parse(row.metadata) as Record<string, string>,
    dataTimestamp: parseTimestamp(row.data_timestamp),
    createdAt: parseTimestamp(row.created_at)!,
    updatedAt: parseTimestamp(row.updated_at),
  };
}

function locationOf(row: Pick<BackupRow, 'container' | 'service_metadata' | 'id'>): BackupLocation {
  return { container: row.container ?? DEFAULT_CONTAINER, prefix: row.service_metadata ?? `backup_${row.id}` };
}

function failReason(err: unknown): string {
  return (err instanceof Error ? err.message : String(err)).slice(0, FAIL_REASON_LENGTH);
}

/** The record export_record hands out, under Cinder's field names. */
function exportedRecord(row: BackupRow): Record<string, unknown> {
  return {
    id: row.id,
    user_id: row.user_id,
    project_id: row.project_id,
    volume_id: row.volume_id,
    snapshot_id: row.snapshot_id,
    availability_zone: row.availability_zone,
    container: row.container,
    parent_id: row.parent_id,
    status: row.status,
    fail_reason: row.fail_reason,
    size: row.size,
    display_name: row.display_name,
    display_description: row.display_description,
    service: row.service,
    service_metadata: row.service_metadata,
    object_count: row.object_count,
    num_dependent_backups: row.num_dependent_backups,
    data_timestamp: row.data_timestamp,
    metadata: JSON.parse(row.metadata) as unknown,
    volume_meta: JSON.parse(row.volume_meta) as unknown,
    created_at: row.created_at,
  };
}

function decodeRecord(url: string): Record<string, unknown> {
  try {
    const parsed: unknown = JSON.parse(Buffer.from(url, 'base64').toString('utf8'));
    if (parsed && typeof parsed === 'object' && !Array.isArray(parsed)) return parsed as Record<string, unknown>;
  } catch {
    // answered below
  }
  throw errors.invalidInput("Can't parse backup record.");
}

/**
 * Cinder reserves backups before backup_gigabytes and reports the first it passes, so a
 * project over both hears about the count; every backup takes them in this one order.
 */
async function takeBackupUsage(trx: Kysely<Database>, projectId: string, size: number, limits: Limits): Promise<void> {
  const { backups, backup_gigabytes } = backupUsage(size);
  await takeUsage(trx, projectId, { backups: backups! }, limits);
  await takeUsage(trx, projectId, { backup_gigabytes: backup_gigabytes! }, limits);
}

/** One compare-and-swap of a row's status (and what moves with it); false when the row was in none of `from`. */
async function moveStatus(
  db: Kysely<Database>,
  table: 'volumes' | 'snapshots' | 'backups',
  id: string,
  from: readonly string[],
  set: Record<string, unknown>,
): Promise<boolean> {
  const result = await (db as unknown as Kysely<Record<string, { id: string; status: string }>>)
    .updateTable(table)
    .set(set as { status: string })
    .where('id', '=', id)
    .where('status', 'in', from)
    .executeTakeFirst();
  return Number(result.numUpdatedRows) > 0;
}

const textOrNull = (value: unknown): string | null => (typeof value === 'string' ? value : null);

export class Backups extends WorkflowPart {
  constructor(
    core: WorkflowCore,
    private readonly lifecycle: VolumeLifecycle,
  ) {
    super(core);
  }

  async createBackup(ctx: RequestContext, req: CreateBackupRequest): Promise<BackupRecord> {
    const volume = await this.load.volumeRow(ctx, req.volumeId);
    this.authorize(ctx, 'backup:create', targetOf(volume));
    const snapshot = req.snapshotId ? await this.load.snapshotRow(ctx, req.snapshotId) : null;
    const refusedSnapshot = (status: string) => errors.invalidSnapshot(`Snapshot to be backed up must be available, but the current status is "${status}".`);
    const refusedVolume = (status: string) =>
      status === 'in-use'
        ? errors.invalidVolume('Backing up an in-use volume must use the force flag.')
        : errors.invalidVolume(`Volume to be backed up must be available or in-use, but the current status is "${status}".`);
    const sources = req.force ? ['available', 'in-use'] : ['available'];
    if (snapshot) {
      if (snapshot.volume_id !== volume.id) throw errors.invalidVolume(`Volume ${volume.id} does not match with snapshot.volume_id ${snapshot.volume_id}.`);
      if (snapshot.status !== 'available') throw refusedSnapshot(snapshot.status);
    } else if (!sources.includes(volume.status)) {
      throw refusedVolume(volume.status);
    }
    const limits = await loadLimits(this.db, ctx.projectId, this.options.quotaDefaults);
    const parent = req.incremental ? await this.latestBackup(ctx, volume.id, snapshot?.created_at ?? null) : null;
    const id = randomUUID();
    const now = nowTimestamp();
    const container = req.container || DEFAULT_CONTAINER;
    const volumeMeta: VolumeMeta = { metadata: await this.volumeMetadata(volume.id), bootable: volume.bootable === 1 };
    await inTransaction(this.db, async (trx) => {
      if (snapshot) {
        if (!(await moveStatus(trx, 'snapshots', snapshot.id, ['available'], { status: 'backing-up', updated_at: now }))) {
          throw refusedSnapshot((await this.load.snapshotRow(ctx, snapshot.id)).status);
        }
      } else {
        // The status left is the one read, so it is the one a finished backup puts back.
        if (!(await moveStatus(trx, 'volumes', volume.id, [volume.status], { status: 'backing-up', previous_status: volume.status, updated_at: now }))) {
          throw refusedVolume((await this.load.volumeRow(ctx, volume.id)).status);
        }
      }
      await takeBackupUsage(trx, ctx.projectId, volume.size, limits);
      if (parent) {
        const counted = await trx
          .updateTable('backups')
          .set({ num_dependent_backups: sql`num_dependent_backups + 1` })
          .where('id', '=', parent.id)
          .where('status', '=', 'available')
          .executeTakeFirst();
        if (Number(counted.numUpdatedRows) === 0) throw errors.invalidBackup('The parent backup must be available for incremental backup.');
      }
      await trx
        .insertInto('backups')
        .values({
          id,
          volume_id: volume.id,
          snapshot_id: snapshot?.id ?? null,
          project_id: ctx.projectId,
          user_id: ctx.userId,
          status: 'creating',
          fail_reason: null,
          display_name: req.name ?? null,
          display_description: req.description ?? null,
          availability_zone: volume.availability_zone,
          container,
          service: null,
          service_metadata: `backup_${id}`,
          size: volume.size,
          object_count: 0,
          parent_id: parent?.id ?? null,
          num_dependent_backups: 0,
          restore_volume_id: null,
          metadata: JSON.stringify(req.metadata ?? {}),
          volume_meta: JSON.stringify(volumeMeta),
          // A snapshot's backup holds the data as it was when the snapshot was taken.
          data_timestamp: snapshot?.created_at ?? now,
          created_at: now,
        })
        .execute();
    });
    const at: BackupLocation = { container, prefix: `backup_${id}` };
    this.machine.track('create_backup', id, this.copyOut(id, volume.id, snapshot?.id ?? null, at, parent ? locationOf(parent) : null));
    return this.getBackup(ctx, id);
  }

  /** The background half of a create: the copy, then the backup and its source settle in one commit. */
  private async copyOut(id: string, volumeId: string, snapshotId: string | null, at: BackupLocation, parent: BackupLocation | null): Promise<void> {
    let outcome: { status: string; object_count?: number; service?: string; fail_reason?: string };
    try {
      const result = await this.rpc.backupVolume(volumeId, snapshotId, { at, parent });
      outcome = { status: 'available', object_count: result.objectCount, service: result.service };
    } catch (err) {
      this.logger.error({ backupId: id, err: failReason(err) }, 'backup failed');
      outcome = { status: 'error', fail_reason: failReason(err) };
    }
    await this.settleCopyOut(id, volumeId, snapshotId, outcome);
  }

  /** The backup gets its outcome and its source the status it had, in one commit. */
  private async settleCopyOut(
    id: string,
    volumeId: string,
    snapshotId: string | null,
    outcome: { status: string; object_count?: number; service?: string; fail_reason?: string },
  ): Promise<void> {
    await inTransaction(this.db, async (trx) => {
      const now = nowTimestamp();
      await trx.updateTable('backups').set({ ...outcome, updated_at: now }).where('id', '=', id).where('status', '=', 'creating').execute();
      if (snapshotId) {
        await trx.updateTable('snapshots').set({ status: 'available', updated_at: now }).where('id', '=', snapshotId).where('status', '=', 'backing-up').execute();
      } else {
        await trx
          .updateTable('volumes')
          .set({ status: sql`coalesce(previous_status, 'available')`, previous_status: null, updated_at: now })
          .where('id', '=', volumeId)
          .where('status', '=', 'backing-up')
          .execute();
      }
    });
  }

  /** An incremental backup's parent: the volume's backup with the latest data (older than the snapshot, for one of a snapshot). */
  private async latestBackup(ctx: RequestContext, volumeId: string, before: string | null): Promise<BackupRow> {
    let q = this.db.selectFrom('backups').selectAll().where('volume_id', '=', volumeId).where('project_id', '=', ctx.projectId);
    if (before !== null) q = q.where('data_timestamp', '<', before);
    const latest = await q.orderBy('data_timestamp', 'desc').orderBy('created_at', 'desc').executeTakeFirst();
    if (!latest) throw errors.invalidBackup('No backups available to do an incremental backup.');
    if (latest.status !== 'available') throw errors.invalidBackup('The parent backup must be available for incremental backup.');
    return latest;
  }

  private async volumeMetadata(volumeId: string): Promise<Record<string, string>> {
    const rows = await this.db.selectFrom('volume_metadata').select(['key', 'value']).where('volume_id', '=', volumeId).execute();
    return Object.fromEntries(rows.map((r) => [r.key, r.value]));
  }

  private async backupRow(ctx: RequestContext, id: string): Promise<BackupRow> {
    const row = await this.db.selectFrom('backups').selectAll().where('id', '=', id).executeTakeFirst();
    if (!visibleTo(ctx, row)) throw errors.backupNotFound(id);
    return row;
  }

  async getBackup(ctx: RequestContext, id: string): Promise<BackupRecord> {
    const row = await this.backupRow(ctx, id);
    this.authorize(ctx, 'backup:get', targetOf(row));
    return backupRecord(row);
  }

  async listBackups(ctx: RequestContext, query: ListQuery): Promise<{ backups: BackupRecord[]; count: number }> {
    this.authorize(ctx, 'backup:get_all');
    const order = sortColumns(query.sort, BACKUP_COLUMNS);
    let q = this.db.selectFrom('backups').selectAll();
    if (!(ctx.isAdmin && query.allTenants)) q = q.where('project_id', '=', ctx.projectId);
    for (const [key, value] of Object.entries(query.filters)) {
      if (!ctx.isAdmin && !USER_BACKUP_FILTERS.includes(key)) continue;
      const column = columnNamed(BACKUP_COLUMNS, key);
      // An administrator's filter on something backups do not have matches none, as in Cinder.
      if (!column) return { backups: [], count: 0 };
      q = q.where(column, '=', String(value));
    }
    for (const o of order) q = q.orderBy(o.column, o.dir);
    const rows = await q.execute();
    return { backups: paginate(rows, query).map(backupRecord), count: rows.length };
  }

  async updateBackup(ctx: RequestContext, id: string, patch: UpdateBackupRequest): Promise<BackupRecord> {
    this.authorize(ctx, 'backup:update', targetOf(await this.backupRow(ctx, id)));
    const set: { updated_at: string; display_name?: string | null; display_description?: string | null; metadata?: string } = { updated_at: nowTimestamp() };
    if (patch.name !== undefined) set.display_name = patch.name;
    if (patch.description !== undefined) set.display_description = patch.description;
    if (patch.metadata !== undefined) set.metadata = JSON.stringify(patch.metadata);
    await this.db.updateTable('backups').set(set).where('id', '=', id).execute();
    return this.getBackup(ctx, id);
  }

  /** force: the os-force_delete action, which Cinder checks against its admin-action rule before the delete's own. */
  async deleteBackup(ctx: RequestContext, id: string, opts: { force: boolean }): Promise<void> {
    const backup = await this.backupRow(ctx, id);
    if (opts.force) this.authorize(ctx, 'volume_extension:backup_admin_actions:force_delete', targetOf(backup));
    this.authorize(ctx, 'backup:delete', targetOf(backup));
    const from = opts.force ? ['creating', 'available', 'restoring', 'error', 'error_deleting'] : ['available', 'error'];
    if (!from.includes(backup.status)) throw errors.invalidBackup('Backup status must be available or error');
    // An incremental's child counts itself on its parent in the commit that creates it, so
    // the count read by this conditional write is never stale.
    const moved = await this.db
      .updateTable('backups')
      .set({ status: 'deleting', updated_at: nowTimestamp() })
      .where('id', '=', id)
      .where('status', 'in', from)
      .where('num_dependent_backups', '=', 0)
      .executeTakeFirst();
    if (Number(moved.numUpdatedRows) === 0) {
      const now = await this.backupRow(ctx, id);
      if (now.num_dependent_backups > 0) throw errors.invalidBackup('Incremental backups exist for this backup.');
      throw errors.invalidBackup('Backup status must be available or error');
    }
    this.machine.track('delete_backup', id, this.removeData(backup));
  }

  /** The data goes unless another record (an imported copy) still points at it; then the row, and its quota comes back. */
  private async removeData(backup: BackupRow): Promise<void> {
    try {
      const sharing = await this.db
        .selectFrom('backups')
        .select('id')
        .where('id', '!=', backup.id)
        .where('container', '=', locationOf(backup).container)
        .where('service_metadata', '=', locationOf(backup).prefix)
        .executeTakeFirst();
      if (!sharing) await this.rpc.deleteBackup(backup.volume_id, locationOf(backup));
    } catch (err) {
      this.logger.error({ backupId: backup.id, err: failReason(err) }, 'backup deletion failed');
      await this.db.updateTable('backups').set({ status: 'error_deleting', updated_at: nowTimestamp() }).where('id', '=', backup.id).execute();
      return;
    }
    await inTransaction(this.db, async (trx) => {
      const deleted = await trx.deleteFrom('backups').where('id', '=', backup.id).executeTakeFirst();
      if (Number(deleted.numDeletedRows) === 0) return;
      await returnUsage(trx, backup.project_id, backupUsage(backup.size));
      if (backup.parent_id) {
        await trx
          .updateTable('backups')
          .set({ num_dependent_backups: sql`num_dependent_backups - 1` })
          .where('id', '=', backup.parent_id)
          .where('num_dependent_backups', '>', 0)
          .execute();
      }
    });
  }

  async restoreBackup(ctx: RequestContext, id: string, req: { volumeId?: string | null; name?: string | null }): Promise<RestoreRecord> {
    const backup = await this.backupRow(ctx, id);
    this.authorize(ctx, 'backup:restore', targetOf(backup));
    const notAvailable = () => errors.invalidBackup('Backup status must be available');
    if (backup.status !== 'available') throw notAvailable();
    const volume = req.volumeId ? await this.load.volumeRow(ctx, req.volumeId) : await this.newVolumeFor(ctx, backup, req.name ?? null);
    const volumeRefused = () => errors.invalidVolume('Volume to be restored to must be available');
    if (volume.status !== 'available') throw volumeRefused();
    if (backup.size > volume.size) throw errors.invalidVolume(`volume size ${volume.size} is too small to restore backup of size ${backup.size}.`);
    await inTransaction(this.db, async (trx) => {
      const now = nowTimestamp();
      if (!(await moveStatus(trx, 'backups', id, ['available'], { status: 'restoring', restore_volume_id: volume.id, updated_at: now }))) throw notAvailable();
      if (!(await moveStatus(trx, 'volumes', volume.id, ['available'], { status: 'restoring-backup', updated_at: now }))) throw volumeRefused();
    });
    this.machine.track('restore_backup', id, this.copyIn(backup, volume.id));
    return { backupId: id, volumeId: volume.id, volumeName: volume.display_name };
  }

  /** Cinder's restore without a volume: one of the backup's size, waited for until it is made. */
  private async newVolumeFor(ctx: RequestContext, backup: BackupRow, name: string | null) {
    const created = await this.lifecycle.createVolume(ctx, {
      size: backup.size,
      name: name ?? `restore_backup_${backup.id}`,
      description: 'auto-created_from_restore_from_backup',
    });
    const deadline = Date.now() + NEW_VOLUME_WAIT_MS;
    for (;;) {
      const row = await this.load.volumeRow(ctx, created.id);
      if (row.status === 'error') throw errors.invalidVolume(`Error while creating volume ${created.id} for restoring backup ${backup.id}.`);
      if (row.status !== 'creating' || Date.now() > deadline) return row;
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  }

  /** The background half of a restore: the blocks, then the volume's metadata, and both settle in one commit. */
  private async copyIn(backup: BackupRow, volumeId: string): Promise<void> {
    let restored = true;
    try {
      await this.rpc.restoreBackup(volumeId, await this.chainOf(backup));
    } catch (err) {
      this.logger.error({ backupId: backup.id, volumeId, err: failReason(err) }, 'restore failed');
      restored = false;
    }
    await this.settleCopyIn(backup, volumeId, restored);
  }

  /** The backup is available again and the volume holds it (with its metadata) or is marked as not, in one commit. */
  private async settleCopyIn(backup: BackupRow, volumeId: string, restored: boolean): Promise<void> {
    const meta = JSON.parse(backup.volume_meta) as VolumeMeta;
    await inTransaction(this.db, async (trx) => {
      const now = nowTimestamp();
      // A failed restore leaves the backup as it was, and the volume marked as not holding it.
      await trx.updateTable('backups').set({ status: 'available', updated_at: now }).where('id', '=', backup.id).where('status', '=', 'restoring').execute();
      if (!restored) {
        await trx.updateTable('volumes').set({ status: 'error_restoring', updated_at: now }).where('id', '=', volumeId).where('status', '=', 'restoring-backup').execute();
        return;
      }
      const keys = Object.keys(meta.metadata);
      if (keys.length > 0) {
        await trx.deleteFrom('volume_metadata').where('volume_id', '=', volumeId).where('key', 'in', keys).execute();
        await trx
          .insertInto('volume_metadata')
          .values(keys.map((key) => ({ volume_id: volumeId, key, value: meta.metadata[key]! })))
          .execute();
      }
      await trx
        .updateTable('volumes')
        .set({ status: 'available', bootable: meta.bootable ? 1 : 0, updated_at: now })
        .where('id', '=', volumeId)
        .where('status', '=', 'restoring-backup')
        .execute();
    });
  }

  /** The backup and its ancestors, newest first: an incremental's chunks are found in the first that stored them. */
  private async chainOf(backup: BackupRow): Promise<BackupLocation[]> {
    const chain = [locationOf(backup)];
    const seen = new Set([backup.id]);
    for (let parentId = backup.parent_id; parentId !== null; ) {
      if (seen.has(parentId)) throw new Error(`backup ${backup.id} has a cycle among its parents`);
      seen.add(parentId);
      const parent = await this.db.selectFrom('backups').selectAll().where('id', '=', parentId).executeTakeFirst();
      if (!parent) throw new Error(`backup ${parentId}, a parent of backup ${backup.id}, is gone`);
      chain.push(locationOf(parent));
      parentId = parent.parent_id;
    }
    return chain;
  }

  async exportBackupRecord(ctx: RequestContext, id: string): Promise<BackupExport> {
    const backup = await this.backupRow(ctx, id);
    this.authorize(ctx, 'backup:export-import', targetOf(backup));
    if (backup.status !== 'available') throw errors.invalidBackup(`Backup status must be available and not ${backup.status}.`);
    return {
      backupService: backup.service ?? '',
      backupUrl: Buffer.from(JSON.stringify(exportedRecord(backup))).toString('base64'),
    };
  }

  /** A record made by export_record (perhaps of another deployment's database) becomes a backup of the caller's project. */
  async importBackupRecord(ctx: RequestContext, req: BackupExport): Promise<BackupRecord> {
    this.authorize(ctx, 'backup:backup-import');
    const record = decodeRecord(req.backupUrl);
    if (typeof record.id !== 'string' || record.id === '') throw errors.invalidInput('Provided backup record is missing an id');
    if (!Number.isInteger(record.size)) throw errors.invalidInput('Provided backup record is missing size attribute');
    const id = record.id;
    const size = record.size as number;
    const limits = await loadLimits(this.db, ctx.projectId, this.options.quotaDefaults);
    const now = nowTimestamp();
    const row = {
      id,
      volume_id: textOrNull(record.volume_id) ?? '00000000-0000-0000-0000-000000000000',
      snapshot_id: textOrNull(record.snapshot_id),
      project_id: ctx.projectId,
      user_id: ctx.userId,
      status: 'creating',
      fail_reason: null,
      display_name: textOrNull(record.display_name),
      display_description: textOrNull(record.display_description),
      availability_zone: textOrNull(record.availability_zone),
      container: textOrNull(record.container),
      service: req.backupService,
      service_metadata: textOrNull(record.service_metadata),
      size,
      object_count: Number.isInteger(record.object_count) ? (record.object_count as number) : 0,
      parent_id: textOrNull(record.parent_id),
      num_dependent_backups: 0,
      restore_volume_id: null,
      metadata: JSON.stringify(record.metadata && typeof record.metadata === 'object' ? record.metadata : {}),
      volume_meta: JSON.stringify(record.volume_meta && typeof record.volume_meta === 'object' ? record.volume_meta : { metadata: {}, bootable: false }),
      data_timestamp: textOrNull(record.data_timestamp),
      created_at: now,
      updated_at: null,
    };
    await inTransaction(this.db, async (trx) => {
      const existing = await trx.selectFrom('backups').select('id').where('id', '=', id).executeTakeFirst();
      if (existing) throw errors.invalidBackup('Backup already exists in database.');
      await takeBackupUsage(trx, ctx.projectId, size, limits);
      await trx.insertInto('backups').values(row).execute();
      // An imported incremental needs its parent as much as the original does.
      if (row.parent_id) {
        await trx.updateTable('backups').set({ num_dependent_backups: sql`num_dependent_backups + 1` }).where('id', '=', row.parent_id).execute();
      }
    });
    this.machine.track('import_backup', id, this.verifyImported(row));
    return this.getBackup(ctx, id);
  }

  /** An imported record becomes available once the store it names holds its data. */
  private async verifyImported(row: BackupRow): Promise<void> {
    let found = false;
    try {
      found = await this.rpc.hasBackup(row.volume_id, row.service ?? '', locationOf(row));
    } catch (err) {
      this.logger.error({ backupId: row.id, err: failReason(err) }, 'backup import could not be checked');
    }
    const outcome = found
      ? { status: 'available', fail_reason: null }
      : { status: 'error', fail_reason: `Import record failed, cannot find backup service to perform the import. Request service ${row.service}.`.slice(0, FAIL_REASON_LENGTH) };
    await this.db.updateTable('backups').set({ ...outcome, updated_at: nowTimestamp() }).where('id', '=', row.id).where('status', '=', 'creating').execute();
  }

  /**
   * Start-up on a storage host, as Cinder's backup manager does: a backup of one of its
   * volumes left creating is in error (its source back to what it was), a restore left
   * running leaves the backup available and the volume in error_restoring, and a delete
   * is done again.
   */
  async resumeInterrupted(volumeHost: string): Promise<{ resumed: number }> {
    const rows = await this.db
      .selectFrom('backups as b')
      .innerJoin('volumes as v', 'v.id', 'b.volume_id')
      .selectAll('b')
      .where('v.host', '=', volumeHost)
      .where('b.status', 'in', ['creating', 'restoring', 'deleting'])
      .execute();
    const interrupted = 'the service stopped before the backup finished';
    for (const row of rows) {
      if (row.status === 'deleting') this.machine.track('delete_backup', row.id, this.removeData(row));
      else if (row.status === 'creating') await this.settleCopyOut(row.id, row.volume_id, row.snapshot_id, { status: 'error', fail_reason: interrupted });
      else await this.settleCopyIn(row, row.restore_volume_id ?? '', false);
    }
    return { resumed: rows.length };
  }

  async resetBackupStatus(ctx: RequestContext, id: string, status: string): Promise<void> {
    const backup = await this.backupRow(ctx, id);
    this.authorize(ctx, 'volume_extension:backup_admin_actions:reset_status', targetOf(backup));
    const valid = ['available', 'error'];
    if (!valid.includes(status.toLowerCase())) {
      throw errors.validation('status', status, `Backup status: ${status} is invalid, valid statuses are: ['available', 'error'].`);
    }
    await this.db.updateTable('backups').set({ status: status.toLowerCase(), updated_at: nowTimestamp() }).where('id', '=', id).execute();
  }
}
