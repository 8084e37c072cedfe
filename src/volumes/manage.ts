// Managing what a backend already holds, and letting go of it: a volume or snapshot made
// from a backend object Cinderblock did not create (the driver renames it to the name it
// gives the new id), and the reverse, where the rows go and the object stays. Listing the
// backend's objects says which of them are already ours.

import { randomUUID } from 'node:crypto';
import { isDeepStrictEqual } from 'node:util';
import type { BackendKind, BackendObject } from '../drivers/driver.js';
import { formatTimestamp, nowTimestamp, UNTOUCHED_VOLUME_COLUMNS } from '../db/schema.js';
import { DEFAULT_VOLUME_TYPE } from '../db/migrations/0001_initial.js';
import { inTransaction } from '../db/prepared.js';
import { errors } from '../errors.js';
import { targetOf, WorkflowPart, type WorkflowCore } from './core.js';
import { deleteRejected, DELETABLE, NOT_MIGRATING } from './states.js';
import { poolHostOf } from './scheduler.js';
import { extendUsage, snapshotUsage, volumeUsage } from './quota-resources.js';
import { DELETABLE_SNAPSHOT, deleteSnapshotRow, insertSnapshotRow, snapshotRecord } from './snapshots.js';
import { loadLimits, returnUsage, takeUsage, typeNameOf } from './quota-usage.js';
import type { RequestContext, SnapshotRecord, SortKey, VolumeRecord } from './types.js';
import { insertNewVolumeMetadata, isMultiattachType, type VolumeTypes } from './volume-types.js';

export type { BackendKind };

/** A backend object as Cinder's manageable-volumes and manageable-snapshots lists show it. */
export interface ManageableEntry {
  reference: { 'source-name': string };
  size: number;
  safeToManage: boolean;
  reasonNotSafe: string | null;
  cinderId: string | null;
  extraInfo: null;
  /** Snapshots only: the volume it is a snapshot of, when that is known. */
  sourceReference?: { 'source-name': string } | null;
}

export interface ManageableQuery {
  host: string;
  limit: number;
  offset: number;
  /** A reference as JSON, as Cinder takes it. */
  marker?: string;
  sort: SortKey[];
}

export interface ManageVolumeRequest {
  host: string;
  ref: unknown;
  name: string | null;
  description: string | null;
  volumeType: string | null;
  metadata: Record<string, string> | null;
  availabilityZone: string | null;
  bootable: boolean;
}

export interface ManageSnapshotRequest {
  volumeId: string;
  ref: unknown;
  name: string | null;
  description: string | null;
  metadata: Record<string, string> | null;
}

/** The names the file driver gives what it holds (Cinder's volume_name_template and snapshot_name_template). */
const NAME_PREFIX: Record<BackendKind, string> = { volume: 'volume-', snapshot: 'snapshot-' };
const UUID_NAME = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

function idInName(kind: BackendKind, name: string): string | null {
  const rest = name.startsWith(NAME_PREFIX[kind]) ? name.slice(NAME_PREFIX[kind].length) : '';
  return UUID_NAME.test(rest) ? rest.toLowerCase() : null;
}

/** The backend name a reference gives, or Cinder's refusal of a reference without one. */
function sourceNameOf(kind: BackendKind, ref: unknown): string {
  const name = ref && typeof ref === 'object' ? (ref as Record<string, unknown>)['source-name'] : undefined;
  if (typeof name === 'string' && name !== '') return name;
  const what = kind === 'volume' ? 'volume' : 'snapshot';
  throw errors.backend(`Manage existing ${what} failed due to invalid backend reference ${JSON.stringify(ref)}: Reference must contain source-name element.`);
}

/** Cinder's volume_utils.paginate_entries_list: sorted by reference or size, then marker, offset and limit. */
function paginateEntries(entries: ManageableEntry[], query: ManageableQuery): ManageableEntry[] {
  for (const { key } of query.sort) if (key !== 'reference' && key !== 'size') throw errors.badRequest(`Invalid sort keys passed: ${key}`);
  const valueOf = (e: ManageableEntry, key: string) => (key === 'size' ? e.size : e.reference['source-name']);
  const sorted = [...entries].sort((a, b) => {
    for (const { key, dir } of query.sort) {
      const [x, y] = [valueOf(a, key), valueOf(b, key)];
      if (x !== y) return (x < y ? -1 : 1) * (dir === 'asc' ? 1 : -1);
    }
    return 0;
  });
  let start = 0;
  if (query.marker !== undefined) {
    let marker: unknown;
    try {
      marker = JSON.parse(query.marker);
    } catch {
      throw errors.invalidInput(`marker ${query.marker} can not be analysed, please use json like format`);
    }
    const at = sorted.findIndex((e) => isDeepStrictEqual(e.reference, marker));
    if (at < 0) throw errors.invalidInput(`marker not found: ${query.marker}`);
    start = at + 1;
  }
  return sorted.slice(start + query.offset, start + query.offset + query.limit);
}

export class ManageExisting extends WorkflowPart {
  constructor(
    core: WorkflowCore,
    private readonly types: VolumeTypes,
  ) {
    super(core);
  }

  async listManageable(ctx: RequestContext, kind: BackendKind, query: ManageableQuery): Promise<ManageableEntry[]> {
    this.authorize(ctx, kind === 'volume' ? 'volume_extension:list_manageable' : 'snapshot_extension:list_manageable');
    const poolHost = await this.serviceFor(query.host, (backend) => errors.notFound(`Service None could not be found on host ${backend}.`));
    const objects = await this.rpc.listBackendObjects(poolHost, kind);
    const ours = await this.managedIds(kind, objects);
    const entries = objects.map((object): ManageableEntry => {
      const id = idInName(kind, object.name);
      const managed = id !== null && ours.has(id);
      return {
        reference: { 'source-name': object.name },
        size: object.sizeGiB,
        safeToManage: !managed,
        reasonNotSafe: managed ? 'already managed' : null,
        cinderId: managed ? id : null,
        extraInfo: null,
        ...(kind === 'snapshot' ? { sourceReference: managed ? { 'source-name': `${NAME_PREFIX.volume}${ours.get(id!)}` } : null } : {}),
      };
    });
    return paginateEntries(entries, query);
  }

  async manageVolume(ctx: RequestContext, req: ManageVolumeRequest): Promise<VolumeRecord> {
    this.authorize(ctx, 'volume_extension:volume_manage');
    const sourceName = typeof req.ref === 'object' && req.ref !== null ? (req.ref as Record<string, unknown>)['source-name'] : undefined;
    const claimed = typeof sourceName === 'string' ? idInName('volume', sourceName) : null;
    if (claimed && (await this.db.selectFrom('volumes').select('id').where('id', '=', claimed).executeTakeFirst())) {
      throw errors.invalidVolume('Unable to manage existing volume. The volume is already managed');
    }
    let type;
    try {
      type = await this.types.resolveType(req.volumeType || DEFAULT_VOLUME_TYPE);
    } catch {
      throw errors.badRequest(`Invalid volume type: Cannot find requested '${req.volumeType}' volume type`);
    }
    const host = await this.serviceFor(req.host, (backend) => errors.badRequest(`Host '${backend}' not found`));
    const limits = await loadLimits(this.db, ctx.projectId, this.options.quotaDefaults);
    const id = randomUUID();
    // The size is the backend object's, known once the storage host has looked; until
    // then the volume counts as one volume of no gigabytes.
    await inTransaction(this.db, async (trx) => {
      await takeUsage(trx, ctx.projectId, volumeUsage(0, type.name), limits);
      await trx
        .insertInto('volumes')
        .values({
          ...UNTOUCHED_VOLUME_COLUMNS,
          id,
          project_id: ctx.projectId,
          user_id: ctx.userId,
          display_name: req.name,
          display_description: req.description,
          size: 0,
          status: 'managing',
          attach_status: 'detached',
          availability_zone: req.availabilityZone ?? this.options.availabilityZone,
          volume_type_id: type.id,
          multiattach: isMultiattachType(type) ? 1 : 0,
          bootable: req.bootable ? 1 : 0,
          host,
          created_at: nowTimestamp(),
        })
        .execute();
      await insertNewVolumeMetadata(trx, id, req.metadata);
    });
    this.machine.track('manage_volume', id, this.adoptVolume(ctx.projectId, id, type.name, req.ref));
    return this.load.record(await this.load.volumeRow(ctx, id));
  }

  /** Size first, then quota and size in one commit, then the rename: a refused quota leaves the object as it was. */
  private async adoptVolume(projectId: string, id: string, typeName: string, ref: unknown): Promise<void> {
    try {
      const sourceName = sourceNameOf('volume', ref);
      const size = await this.rpc.sizeOfExisting(id, 'volume', sourceName);
      const limits = await loadLimits(this.db, projectId, this.options.quotaDefaults);
      await inTransaction(this.db, async (trx) => {
        await takeUsage(trx, projectId, extendUsage(size, typeName), limits);
        await trx.updateTable('volumes').set({ size }).where('id', '=', id).where('status', '=', 'managing').execute();
      });
      await this.rpc.manageExisting(id, 'volume', id, sourceName);
      await this.db.updateTable('volumes').set({ status: 'available', updated_at: nowTimestamp() }).where('id', '=', id).where('status', '=', 'managing').execute();
    } catch (err) {
      this.logger.error({ volumeId: id, err: (err as Error).message }, 'managing an existing volume failed');
      await this.db.updateTable('volumes').set({ status: 'error_managing', updated_at: nowTimestamp() }).where('id', '=', id).where('status', '=', 'managing').execute();
    }
  }

  /** A delete that leaves the volume's blocks on the backend; the same states allow it. */
  async unmanageVolume(ctx: RequestContext, id: string): Promise<void> {
    const volume = await this.load.volumeRow(ctx, id);
    this.authorize(ctx, 'volume_extension:volume_unmanage', targetOf(volume));
    const started = await inTransaction(this.db, async (trx) => {
      const moved = await trx
        .updateTable('volumes')
        .set({ status: 'unmanaging', updated_at: nowTimestamp() })
        .where('id', '=', id)
        .where('status', 'in', DELETABLE)
        .where('attach_status', '!=', 'attached')
        .where((eb) => eb.or([eb('migration_status', 'is', null), eb('migration_status', 'in', NOT_MIGRATING.filter((s): s is string => s !== null))]))
        .executeTakeFirst();
      if (Number(moved.numUpdatedRows) === 0) return false;
      const snapshot = await trx.selectFrom('snapshots').select('id').where('volume_id', '=', id).executeTakeFirst();
      if (snapshot) throw deleteRejected();
      return true;
    });
    if (!started) throw deleteRejected();
    this.machine.track(
      'unmanage_volume',
      id,
      this.rpc.unmanageVolume(id).then(
        () => this.machine.forgetVolume(id, 'unmanaging'),
        async (err) => {
          this.logger.error({ volumeId: id, err: (err as Error).message }, 'unmanaging a volume failed');
          await this.db.updateTable('volumes').set({ status: 'error_unmanaging', updated_at: nowTimestamp() }).where('id', '=', id).execute();
        },
      ),
    );
  }

  async manageSnapshot(ctx: RequestContext, req: ManageSnapshotRequest): Promise<SnapshotRecord> {
    const volume = await this.load.volumeRow(ctx, req.volumeId);
    this.authorize(ctx, 'snapshot_extension:snapshot_manage', targetOf(volume));
    await this.serviceFor(volume.host ?? '', () => errors.badRequest('Service is unavailable at this time.'));
    const typeName = await typeNameOf(this.db, volume.volume_type_id);
    const limits = await loadLimits(this.db, ctx.projectId, this.options.quotaDefaults);
    const id = randomUUID();
    await inTransaction(this.db, async (trx) => {
      await takeUsage(trx, ctx.projectId, snapshotUsage(volume.size, typeName), limits);
      await insertSnapshotRow(trx, ctx, { id, volumeId: volume.id, size: volume.size, name: req.name, description: req.description, metadata: req.metadata ?? {} });
    });
    this.machine.track('manage_snapshot', id, this.adoptSnapshot(ctx.projectId, volume.id, volume.size, id, typeName, req.ref));
    return snapshotRecord(await this.load.snapshotRow(ctx, id));
  }

  /** As adoptVolume; the snapshot took its volume's size at create, and the object's size replaces it. */
  private async adoptSnapshot(projectId: string, volumeId: string, counted: number, id: string, typeName: string, ref: unknown): Promise<void> {
    try {
      const sourceName = sourceNameOf('snapshot', ref);
      const size = await this.rpc.sizeOfExisting(volumeId, 'snapshot', sourceName);
      const limits = await loadLimits(this.db, projectId, this.options.quotaDefaults);
      await inTransaction(this.db, async (trx) => {
        if (size > counted) await takeUsage(trx, projectId, extendUsage(size - counted, typeName), limits);
        else await returnUsage(trx, projectId, extendUsage(counted - size, typeName));
        await trx.updateTable('snapshots').set({ volume_size: size }).where('id', '=', id).execute();
      });
      await this.rpc.manageExisting(volumeId, 'snapshot', id, sourceName);
      await this.db.updateTable('snapshots').set({ status: 'available', progress: '100%', updated_at: nowTimestamp() }).where('id', '=', id).where('status', '=', 'creating').execute();
    } catch (err) {
      this.logger.error({ snapshotId: id, err: (err as Error).message }, 'managing an existing snapshot failed');
      await this.db.updateTable('snapshots').set({ status: 'error', updated_at: nowTimestamp() }).where('id', '=', id).where('status', '=', 'creating').execute();
    }
  }

  /** The snapshot's row goes and its quota comes back; its file stays where it is. */
  async unmanageSnapshot(ctx: RequestContext, id: string): Promise<void> {
    const snapshot = await this.load.snapshotRow(ctx, id);
    this.authorize(ctx, 'snapshot_extension:snapshot_unmanage', targetOf(snapshot));
    const moved = await this.db
      .updateTable('snapshots')
      .set({ status: 'unmanaging', updated_at: nowTimestamp() })
      .where('id', '=', id)
      .where('status', 'in', DELETABLE_SNAPSHOT)
      .executeTakeFirst();
    if (Number(moved.numUpdatedRows) === 0) throw errors.invalidSnapshot('Snapshot status must be available or error and must not be part of a group.');
    await deleteSnapshotRow(this.db, id);
  }

  /**
   * The storage host named by `host` (host@backend, with or without #pool), as the pool host
   * its volumes carry; it must be enabled and up, as Cinder requires.
   */
  private async serviceFor(host: string, missing: (backend: string) => Error): Promise<string> {
    const backend = host.split('#', 1)[0]!;
    const service = await this.db
      .selectFrom('services')
      .select(['host', 'disabled', 'updated_at'])
      .where('binary', '=', 'cinder-volume')
      .where('host', '=', backend)
      .executeTakeFirst();
    if (!service) throw missing(backend);
    const up = service.updated_at !== null && service.updated_at >= formatTimestamp(Date.now() - this.options.serviceDownTimeMs);
    if (service.disabled || !up) throw errors.badRequest('Service is unavailable at this time.');
    return poolHostOf(service.host);
  }

  /** Which backend objects named after an id are ours: id -> (for snapshots) the volume it belongs to. */
  private async managedIds(kind: BackendKind, objects: BackendObject[]): Promise<Map<string, string>> {
    const ids = objects.map((o) => idInName(kind, o.name)).filter((id): id is string => id !== null);
    if (ids.length === 0) return new Map();
    if (kind === 'volume') {
      const rows = await this.db.selectFrom('volumes').select('id').where('id', 'in', ids).execute();
      return new Map(rows.map((r) => [r.id, r.id]));
    }
    const rows = await this.db.selectFrom('snapshots').select(['id', 'volume_id']).where('id', 'in', ids).execute();
    return new Map(rows.map((r) => [r.id, r.volume_id]));
  }

}
