// A volume's life on the backend: create (empty, a clone of a volume, or from a snapshot),
// extend and delete. These are the calls that start backend work through the state
// machine and change how much storage a project holds.

import { randomUUID } from 'node:crypto';
import type { SnapshotRow, VolumeRow } from '../db/schema.js';
import { nowTimestamp, UNTOUCHED_VOLUME_COLUMNS } from '../db/schema.js';
import { inTransaction } from '../db/prepared.js';
import { errors } from '../errors.js';
import { targetOf, WorkflowPart, type WorkflowCore } from './core.js';
import { assertNotFrozen } from './frozen.js';
import { Q } from './queries.js';
import { DELETABLE_SNAPSHOT } from './snapshots.js';
import { deleteRejected, transition, type VolumeEvent } from './states.js';
import type { CreateVolumeRequest, RequestContext, VolumeRecord } from './types.js';
import { insertNewVolumeMetadata, isMultiattachType, type VolumeTypes } from './volume-types.js';
import { extendUsage, volumeUsage } from './quota-resources.js';
import { checkVolumeSize, loadLimits, takeUsage, typeNameOf } from './quota-usage.js';
import type { PoolCapacity } from './capacity.js';
import { ACTIONS, DETAILS, recordMessage } from './messages.js';
import type { Placement } from './scheduler.js';
import { checkGroupForVolume, holdGroupOpen, inGroup, visibleGroup } from './group-membership.js';

/** The numbers the capacity filter judged a host by, for the log. */
function reportedCapacity(c: PoolCapacity) {
  const { total_capacity_gb, free_capacity_gb, provisioned_capacity_gb, max_over_subscription_ratio, reserved_percentage, thin_provisioning_support } = c;
  return { total_capacity_gb, free_capacity_gb, provisioned_capacity_gb, max_over_subscription_ratio, reserved_percentage, thin_provisioning_support };
}

function describeHosts(placement: Placement): string {
  if (placement.judged.length === 0) return 'no storage host is up in the zone';
  return placement.judged.map((h) => `${h.host}: ${h.reason}`).join('; ');
}

export class VolumeLifecycle extends WorkflowPart {
  constructor(
    core: WorkflowCore,
    private readonly types: VolumeTypes,
  ) {
    super(core);
  }

  async createVolume(ctx: RequestContext, req: CreateVolumeRequest): Promise<VolumeRecord> {
    this.authorize(ctx, 'volume:create');
    if (!Number.isInteger(req.size) || req.size < 1) {
      throw errors.invalidInput(`Volume size '${String(req.size)}' must be an integer and greater than 0`);
    }
    const snapshot = req.snapshotId ? await this.snapshotSource(ctx, req.snapshotId, req.size) : null;
    // A volume from a snapshot is made where the snapshot's volume lives, like a clone.
    const source = snapshot ? await this.snapshotVolume(snapshot) : req.sourceVolid ? await this.cloneSource(ctx, req.sourceVolid, req.size) : null;
    // A copy has its source's type unless another is asked for, which must then be the same.
    const type = await this.types.typeForNewVolume(ctx, req.volumeType ?? undefined, source?.volume_type_id);
    const encrypted = await this.types.isEncrypted(type.id);
    if (source && type.id !== source.volume_type_id) {
      const of = snapshot ? 'snapshot' : 'source volume';
      throw errors.invalidInput(`Invalid volume_type provided: ${req.volumeType} (requested type is not compatible; either match ${of}, or omit type argument).`);
    }
    const multiattach = isMultiattachType(type);
    if (multiattach) this.authorize(ctx, 'volume:multiattach');
    const group = req.groupId ? await visibleGroup(this.db, ctx, req.groupId) : null;
    if (group) {
      this.authorize(ctx, 'group:get', targetOf(group));
      await checkGroupForVolume(this.db, group, type);
    }
    // A volume made in a group is made in the group's zone.
    const zone = req.availabilityZone ?? group?.availability_zone ?? source?.availability_zone ?? this.options.availabilityZone;
    if (zone !== this.options.availabilityZone) throw errors.invalidInput(`Availability zone '${zone}' is invalid.`);
    const limits = await loadLimits(this.db, ctx.projectId, this.options.quotaDefaults);
    checkVolumeSize(req.size, limits);
    const id = randomUUID();
    // A clone is made where its source's blocks are.
    const thin = type.extraSpecs['provisioning:type'] !== 'thick';
    const placement = source ? null : await this.options.scheduler.place({ zone, size: req.size, thin, extraSpecs: type.extraSpecs });
    const host = source ? source.host : placement!.host;
    const sourceVolid = snapshot ? null : (source?.id ?? null);
    const snapshotId = snapshot?.id ?? null;
    const now = nowTimestamp();
    await inTransaction(this.db, async (trx) => {
      if (group) await holdGroupOpen(trx, group.id);
      await takeUsage(trx, ctx.projectId, volumeUsage(req.size, type.name), limits);
      await trx
        .insertInto('volumes')
        .values({
          ...UNTOUCHED_VOLUME_COLUMNS,
          id,
          project_id: ctx.projectId,
          user_id: ctx.userId,
          display_name: req.name ?? null,
          display_description: req.description ?? null,
          size: req.size,
          status: 'creating',
          attach_status: 'detached',
          availability_zone: zone,
          volume_type_id: type.id,
          multiattach: multiattach ? 1 : 0,
          encrypted: encrypted ? 1 : 0,
          host,
          source_volid: sourceVolid,
          snapshot_id: snapshotId,
          group_id: group?.id ?? null,
          created_at: now,
        })
        .execute();
      await insertNewVolumeMetadata(trx, id, req.metadata);
    });
    const record = await this.load.record(await this.load.volumeRow(ctx, id));
    if (placement && placement.host === null) {
      await this.noValidBackend(ctx, id, req.size, placement);
      return record;
    }
    // A new row is the start of the machine, not a transition out of a prior state.
    this.machine.runEffects(['create_volume'], id, { size: req.size, sourceVolid, snapshotId });
    return record;
  }

  /**
   * No storage host can take the volume: it ends in error, as after Cinder's "No valid
   * backend was found", with the user message Cinder's scheduler records, and the log says
   * what every host reported, which the message (in fixed words) does not.
   */
  private async noValidBackend(ctx: RequestContext, id: string, size: number, placement: Placement): Promise<void> {
    const hosts = placement.judged.map(({ host, capacity, reason }) => ({ host, reason, ...(capacity ? reportedCapacity(capacity) : {}) }));
    this.logger.warn({ volumeId: id, size, hosts }, `no storage host can hold volume ${id} of ${size} GiB: ${describeHosts(placement)}`);
    await this.machine.apply('create_failed', id);
    await recordMessage(this.db, { ctx, resourceUuid: id, action: ACTIONS.SCHEDULE_ALLOCATE_VOLUME, detail: DETAILS.NO_BACKEND_AVAILABLE }).catch((err: unknown) =>
      this.logger.error({ volumeId: id, err: (err as Error).message }, 'user message not recorded'),
    );
  }

  async deleteVolume(ctx: RequestContext, id: string, opts: { force: boolean; cascade: boolean; adminAction?: boolean }): Promise<void> {
    if (opts.adminAction) await this.authorizeOnVolume(ctx, 'volume_extension:volume_admin_actions:force_delete', id);
    await this.authorizeOnVolume(ctx, opts.force ? 'volume:force_delete' : 'volume:delete', id);
    await assertNotFrozen(this.db, id);
    // The transition first, then the snapshots: the transition's row lock makes a snapshot
    // being taken (which locks the same row) commit before they are read, or find the
    // volume deleting. A volume with snapshots goes only with them (cascade), and only
    // when each of them can go; otherwise the transition is rolled back.
    const effects = await inTransaction(this.db, async (trx) => {
      const started = await this.machine.apply(opts.force ? 'force_delete' : 'delete', id, trx);
      if (!started) return null;
      // A group's volume goes with its group (or after leaving it), as in Cinder.
      if (await inGroup(trx, id)) throw deleteRejected();
      const snapshots = await trx.selectFrom('snapshots').select(['status', 'group_snapshot_id']).where('volume_id', '=', id).execute();
      if (snapshots.length === 0) return started;
      // A group snapshot's member goes only with its group snapshot.
      if (!opts.cascade || snapshots.some((s) => !DELETABLE_SNAPSHOT.includes(s.status) || s.group_snapshot_id !== null)) throw deleteRejected();
      await trx.updateTable('snapshots').set({ status: 'deleting', updated_at: nowTimestamp() }).where('volume_id', '=', id).execute();
      return started;
    });
    if (effects) this.machine.runEffects(effects, id, {});
  }

  async extendVolume(ctx: RequestContext, id: string, newSize: number, opts: { allowAttached: boolean }): Promise<void> {
    const row = await this.load.volumeRow(ctx, id);
    const event: VolumeEvent = opts.allowAttached && row.status === 'in-use' ? 'extend_attached' : 'extend';
    this.authorize(ctx, event === 'extend' ? 'volume:extend' : 'volume:extend_attached_volume', targetOf(row));
    const state = await this.machine.volumeState(id);
    const check = transition(event, state!);
    if (check.kind === 'rejected') throw check.error;
    const tooSmall = (current: number) =>
      errors.invalidInput(`New size for extend must be greater than current size. (current: ${current}, extended: ${newSize}).`);
    if (!Number.isInteger(newSize) || newSize <= row.size) throw tooSmall(row.size);
    const limits = await loadLimits(this.db, row.project_id, this.options.quotaDefaults);
    checkVolumeSize(newSize, limits);
    const typeName = await typeNameOf(this.db, row.volume_type_id);
    // The move holds the row until commit, so the size read after it is the one extended
    // from; a refused quota rolls the move back, as Cinder rolls the status back.
    const effects = await inTransaction(this.db, async (trx) => {
      const started = await this.machine.apply(event, id, trx);
      if (!started) return null;
      const { size } = await trx.selectFrom('volumes').select('size').where('id', '=', id).executeTakeFirstOrThrow();
      if (newSize <= size) throw tooSmall(size);
      await takeUsage(trx, row.project_id, extendUsage(newSize - size, typeName), limits);
      await trx.updateTable('volumes').set({ extending_to: newSize }).where('id', '=', id).execute();
      return started;
    });
    if (effects) this.machine.runEffects(effects, id, { size: newSize });
  }

  /** Cinder's checks on a snapshot to create from: visible, available, and no bigger than the new volume. */
  private async snapshotSource(ctx: RequestContext, snapshotId: string, size: number): Promise<SnapshotRow> {
    const snapshot = await this.load.snapshotRow(ctx, snapshotId);
    if (snapshot.status !== 'available') throw errors.invalidSnapshot("Originating snapshot status must be one of 'available' values");
    if (size < snapshot.volume_size) {
      throw errors.invalidInput(
        `Volume size '${size}'GB cannot be smaller than the snapshot size ${snapshot.volume_size}GB. They must be >= original snapshot size.`,
      );
    }
    return snapshot;
  }

  /** A snapshot's volume, which a volume with snapshots cannot leave behind. */
  private async snapshotVolume(snapshot: SnapshotRow): Promise<VolumeRow> {
    const [row] = (await Q.volume(this.db, snapshot.volume_id)).rows;
    if (!row) throw errors.volumeNotFound(snapshot.volume_id);
    return row;
  }

  /** Cinder's checks on a source volume: visible to the caller, settled, and no bigger than its clone. */
  private async cloneSource(ctx: RequestContext, sourceVolid: string, size: number): Promise<VolumeRow> {
    const source = await this.load.volumeRow(ctx, sourceVolid);
    // Cinder reads the source as any get does.
    if (!this.allows(ctx, 'volume:get', targetOf(source))) throw errors.volumeNotFound(sourceVolid);
    if (!['available', 'in-use'].includes(source.status)) {
      throw errors.invalidVolume("Originating source volume status must be one of 'available, in-use' values");
    }
    if (size < source.size) {
      throw errors.invalidInput(
        `Volume size '${size}'GB cannot be smaller than original volume size  ${source.size}GB. They must be >= original volume size.`,
      );
    }
    return source;
  }
}
