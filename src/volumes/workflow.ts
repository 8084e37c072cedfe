// The BlockStorage service: Cinder's volume API and its one attachment state machine.
// Both doors (the legacy actions and the attachments API) move a volume through the
// rules of states.ts, each move one conditional UPDATE, and share the same attachment
// steps (create row, connect, mark attached, finish detach).

import type { Kysely, Transaction } from 'kysely';
import type { Logger } from 'pino';
import type { Database, VolumeUpdate } from '../db/schema.js';
import { nowTimestamp } from '../db/schema.js';
import { errors } from '../errors.js';
import type { KeyedLocks } from '../db/keyed-lock.js';
import type { VolumeRpc } from '../rpc/rpc.js';
import { AttachmentSteps } from './attachment-steps.js';
import { AttachmentsApi } from './attachments-api.js';
import type { WorkflowCore, WorkflowOptions } from './core.js';
import { countStatuses, type StatusCounts } from './inventory.js';
import { LegacyActions } from './legacy-actions.js';
import { compileVolumeFilters, conditionsExpression, paginate, volumeSort } from './listing.js';
import { Loader } from './loading.js';
import { VolumeMachine } from './machine.js';
import { Q } from './queries.js';
import type { BlockStorage } from './service.js';
import { ServicesAdmin } from './services-admin.js';
import { Snapshots } from './snapshots.js';
import {
  type AttachmentRecord,
  type ConnectionInfo,
  type Connector,
  type CreateAttachmentRequest,
  type CreateSnapshotRequest,
  type CreateVolumeRequest,
  type LegacyAttachRequest,
  type ListQuery,
  type RequestContext,
  type ResetStatusRequest,
  type ServiceRecord,
  type SnapshotListQuery,
  type SnapshotRecord,
  type UpdateVolumeRequest,
  type VolumeRecord,
  type VolumeTypeRecord,
} from './types.js';
import { VolumeLifecycle } from './volume-lifecycle.js';
import { VolumeTypes } from './volume-types.js';

export type { WorkflowOptions } from './core.js';

export class Workflow implements BlockStorage {
  private readonly machine: VolumeMachine;
  private readonly load: Loader;
  private readonly steps: AttachmentSteps;
  private readonly legacy: LegacyActions;
  private readonly attachments: AttachmentsApi;
  private readonly snapshots: Snapshots;
  private readonly types: VolumeTypes;
  private readonly services: ServicesAdmin;
  private readonly lifecycle: VolumeLifecycle;

  constructor(
    private readonly db: Kysely<Database>,
    rpc: VolumeRpc,
    /** One volume's multi-step sequences take turns under its lock, in every process sharing the database. */
    locks: KeyedLocks,
    options: WorkflowOptions,
    logger: Logger,
  ) {
    this.machine = new VolumeMachine(db, rpc, logger);
    this.load = new Loader(db);
    const core: WorkflowCore = { db, rpc, locks, options, logger, machine: this.machine, load: this.load };
    this.steps = new AttachmentSteps(core);
    this.legacy = new LegacyActions(core, this.steps);
    this.attachments = new AttachmentsApi(core, this.steps);
    this.snapshots = new Snapshots(core);
    this.types = new VolumeTypes(core);
    this.services = new ServicesAdmin(core);
    this.lifecycle = new VolumeLifecycle(core, this.types);
  }

  start(): Promise<void> {
    return this.load.start();
  }

  /** Waits for every background step started so far (volume create, delete, extend). */
  drain(): Promise<void> {
    return this.machine.drain();
  }

  /** Start-up: finishes or fails the steps a previous run on this storage host left half done. */
  resumeInterrupted(volumeHost: string): Promise<{ resumed: number }> {
    return this.machine.resumeInterrupted(volumeHost);
  }

  // ---------------------------------------------------------------- volumes

  createVolume(ctx: RequestContext, req: CreateVolumeRequest): Promise<VolumeRecord> {
    return this.lifecycle.createVolume(ctx, req);
  }

  async getVolume(ctx: RequestContext, id: string): Promise<VolumeRecord> {
    return this.load.record(await this.load.volumeRow(ctx, id));
  }

  async listVolumes(ctx: RequestContext, query: ListQuery): Promise<{ volumes: VolumeRecord[]; count: number }> {
    const filters = compileVolumeFilters(query.filters, ctx);
    if (filters.impossible) return { volumes: [], count: 0 };
    const order = volumeSort(query.sort);
    let q = this.db.selectFrom('volumes as v').selectAll('v');
    if (!(ctx.isAdmin && query.allTenants)) q = q.where('v.project_id', '=', ctx.projectId);
    if (filters.conditions.length > 0) q = q.where((eb) => conditionsExpression(eb, 'v', filters.conditions));
    for (const [key, value] of Object.entries(filters.metadata)) {
      q = q.where((eb) =>
        eb.exists(
          eb
            .selectFrom('volume_metadata as m')
            .select('m.key')
            .whereRef('m.volume_id', '=', 'v.id')
            .where('m.key', '=', key)
            .where('m.value', '=', value),
        ),
      );
    }
    for (const o of order) q = q.orderBy(`v.${o.column}`, o.dir);
    const rows = await q.execute();
    const page = paginate(rows, query);
    return { volumes: await this.load.records(page), count: rows.length };
  }

  async updateVolume(ctx: RequestContext, id: string, patch: UpdateVolumeRequest): Promise<VolumeRecord> {
    const row = await this.load.volumeRow(ctx, id);
    if (row.status === 'maintenance') throw errors.invalidVolume('The volume cannot be updated during maintenance.');
    const set: VolumeUpdate = { updated_at: nowTimestamp() };
    if (patch.name !== undefined) set.display_name = patch.name;
    if (patch.description !== undefined) set.display_description = patch.description;
    await this.db.transaction().execute(async (trx) => {
      await trx.updateTable('volumes').set(set).where('id', '=', id).execute();
      if (patch.metadata) await this.writeMetadata(trx, id, patch.metadata, true);
    });
    return this.getVolume(ctx, id);
  }

  deleteVolume(ctx: RequestContext, id: string, opts: { force: boolean; cascade: boolean }): Promise<void> {
    return this.lifecycle.deleteVolume(ctx, id, opts);
  }

  extendVolume(ctx: RequestContext, id: string, newSize: number, opts: { allowAttached: boolean }): Promise<void> {
    return this.lifecycle.extendVolume(ctx, id, newSize, opts);
  }

  async setBootable(ctx: RequestContext, id: string, bootable: boolean): Promise<void> {
    await this.load.volumeRow(ctx, id);
    await this.db
      .updateTable('volumes')
      .set({ bootable: bootable ? 1 : 0, updated_at: nowTimestamp() })
      .where('id', '=', id)
      .execute();
  }

  async updateReadonlyFlag(ctx: RequestContext, id: string, readonly: boolean): Promise<void> {
    const row = await this.load.volumeRow(ctx, id);
    if (row.status !== 'available') {
      throw errors.invalidVolume(`Volume ${id} status must be available to update readonly flag, but current status is: ${row.status}.`);
    }
    await Q.setAdminMeta(this.db, id, 'readonly', readonly ? 'True' : 'False');
  }

  async setMetadata(ctx: RequestContext, id: string, metadata: Record<string, string>, replace: boolean): Promise<Record<string, string>> {
    await this.load.volumeRow(ctx, id);
    await this.db.transaction().execute((trx) => this.writeMetadata(trx, id, metadata, replace));
    const rows = await this.db.selectFrom('volume_metadata').selectAll().where('volume_id', '=', id).orderBy('key').execute();
    return Object.fromEntries(rows.map((r) => [r.key, r.value]));
  }

  private async writeMetadata(trx: Transaction<Database>, id: string, metadata: Record<string, string>, replace: boolean) {
    if (replace) await trx.deleteFrom('volume_metadata').where('volume_id', '=', id).execute();
    for (const [key, value] of Object.entries(metadata)) {
      await trx
        .insertInto('volume_metadata')
        .values({ volume_id: id, key, value: String(value) })
        .onConflict((oc) => oc.columns(['volume_id', 'key']).doUpdateSet({ value: String(value) }))
        .execute();
    }
  }

  async deleteMetadataKey(ctx: RequestContext, id: string, key: string): Promise<void> {
    await this.load.volumeRow(ctx, id);
    const result = await this.db.deleteFrom('volume_metadata').where('volume_id', '=', id).where('key', '=', key).executeTakeFirst();
    if (Number(result.numDeletedRows) === 0) throw errors.notFound(`Volume ${id} has no metadata with key ${key}.`);
  }

  // ---------------------------------------------------------------- legacy actions

  reserve(ctx: RequestContext, id: string): Promise<void> {
    return this.legacy.reserve(ctx, id);
  }

  unreserve(ctx: RequestContext, id: string): Promise<void> {
    return this.legacy.unreserve(ctx, id);
  }

  initializeConnection(ctx: RequestContext, id: string, connector: Connector): Promise<ConnectionInfo> {
    return this.legacy.initializeConnection(ctx, id, connector);
  }

  attach(ctx: RequestContext, id: string, req: LegacyAttachRequest): Promise<void> {
    return this.legacy.attach(ctx, id, req);
  }

  beginDetaching(ctx: RequestContext, id: string): Promise<void> {
    return this.legacy.beginDetaching(ctx, id);
  }

  rollDetaching(ctx: RequestContext, id: string): Promise<void> {
    return this.legacy.rollDetaching(ctx, id);
  }

  terminateConnection(ctx: RequestContext, id: string, connector: Connector | null, force: boolean): Promise<void> {
    return this.legacy.terminateConnection(ctx, id, connector, force);
  }

  detach(ctx: RequestContext, id: string, attachmentId: string | null): Promise<void> {
    return this.legacy.detach(ctx, id, attachmentId);
  }

  forceDetach(ctx: RequestContext, id: string, connector: Connector | null, attachmentId: string | null): Promise<void> {
    return this.legacy.forceDetach(ctx, id, connector, attachmentId);
  }

  resetStatus(ctx: RequestContext, id: string, req: ResetStatusRequest): Promise<void> {
    return this.legacy.resetStatus(ctx, id, req);
  }

  // ---------------------------------------------------------------- attachments API

  createAttachment(ctx: RequestContext, req: CreateAttachmentRequest): Promise<AttachmentRecord> {
    return this.attachments.createAttachment(ctx, req);
  }

  updateAttachment(ctx: RequestContext, id: string, connector: Connector): Promise<AttachmentRecord> {
    return this.attachments.updateAttachment(ctx, id, connector);
  }

  completeAttachment(ctx: RequestContext, id: string): Promise<void> {
    return this.attachments.completeAttachment(ctx, id);
  }

  deleteAttachment(ctx: RequestContext, id: string): Promise<AttachmentRecord[]> {
    return this.attachments.deleteAttachment(ctx, id);
  }

  // ---------------------------------------------------------------- snapshots

  createSnapshot(ctx: RequestContext, req: CreateSnapshotRequest): Promise<SnapshotRecord> {
    return this.snapshots.createSnapshot(ctx, req);
  }

  getSnapshot(ctx: RequestContext, id: string): Promise<SnapshotRecord> {
    return this.snapshots.getSnapshot(ctx, id);
  }

  listSnapshots(ctx: RequestContext, query: SnapshotListQuery): Promise<SnapshotRecord[]> {
    return this.snapshots.listSnapshots(ctx, query);
  }

  updateSnapshot(ctx: RequestContext, id: string, patch: { name?: string | null; description?: string | null }): Promise<SnapshotRecord> {
    return this.snapshots.updateSnapshot(ctx, id, patch);
  }

  deleteSnapshot(ctx: RequestContext, id: string): Promise<void> {
    return this.snapshots.deleteSnapshot(ctx, id);
  }

  listServices(ctx: RequestContext, filters: { host?: string; binary?: string }): Promise<ServiceRecord[]> {
    return this.services.listServices(ctx, filters);
  }

  setServiceDisabled(ctx: RequestContext, req: { host: string; binary: string; disabled: boolean; reason?: string }): Promise<void> {
    return this.services.setServiceDisabled(ctx, req);
  }

  /** How many volumes are in each status, and live attachments in each attach_status, over all projects. */
  statusCounts(): Promise<StatusCounts> {
    return countStatuses(this.db);
  }

  getAttachment(ctx: RequestContext, id: string): Promise<AttachmentRecord> {
    return this.attachments.getAttachment(ctx, id);
  }

  listAttachments(ctx: RequestContext, query: ListQuery): Promise<{ attachments: AttachmentRecord[]; count: number }> {
    return this.attachments.listAttachments(ctx, query);
  }

  // ---------------------------------------------------------------- volume types

  createVolumeType(
    ctx: RequestContext,
    req: { name: string; description?: string | null; isPublic?: boolean; extraSpecs?: Record<string, string> },
  ): Promise<VolumeTypeRecord> {
    return this.types.createVolumeType(ctx, req);
  }

  listVolumeTypes(ctx: RequestContext): Promise<VolumeTypeRecord[]> {
    return this.types.listVolumeTypes(ctx);
  }

  getVolumeType(ctx: RequestContext, idOrName: string): Promise<VolumeTypeRecord> {
    return this.types.getVolumeType(ctx, idOrName);
  }

  deleteVolumeType(ctx: RequestContext, id: string): Promise<void> {
    return this.types.deleteVolumeType(ctx, id);
  }

  setExtraSpecs(ctx: RequestContext, typeId: string, specs: Record<string, string>): Promise<Record<string, string>> {
    return this.types.setExtraSpecs(ctx, typeId, specs);
  }

  deleteExtraSpec(ctx: RequestContext, typeId: string, key: string): Promise<void> {
    return this.types.deleteExtraSpec(ctx, typeId, key);
  }

}
