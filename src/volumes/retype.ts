// Cinder's os-retype without a migration: a volume whose new type its backend can serve as
// it is simply takes the new type, and its per-type quota usage moves from the old type to
// the new one (with its snapshots, which count against their volume's type) in the same
// transaction. This service has one backend per volume and no volume migration, so a
// retype that would need one (a change of encryption) is refused up front.

import { sql } from 'kysely';
import { nowTimestamp, type VolumeRow } from '../db/schema.js';
import { inTransaction } from '../db/prepared.js';
import { errors } from '../errors.js';
import { targetOf, WorkflowPart, type WorkflowCore } from './core.js';
import { loadLimits, returnUsage, takeUsage, typeNameOf } from './quota-usage.js';
import type { UsageDelta } from './quota-resources.js';
import type { TypeEncryption } from './type-encryption.js';
import type { EncryptionRecord, RetypeRequest } from './type-management.js';
import type { RequestContext } from './types.js';
import { isMultiattachType, type VolumeTypes } from './volume-types.js';

/** Cinder's AVAILABLE_MIGRATION_STATUS: a volume in none of these is being migrated. */
const NOT_MIGRATING = ['deleting', 'error', 'success'];

const CANNOT_RETYPE =
  'Retype needs volume to be in available or in-use state, not be part of an active migration or a consistency group, requested type has to be different that the one from the volume, and for in-use volumes front-end qos specs cannot change.';

function sameEncryption(a: EncryptionRecord | null, b: EncryptionRecord | null): boolean {
  if (a === null || b === null) return a === b;
  return a.provider === b.provider && a.cipher === b.cipher && a.keySize === b.keySize && a.controlLocation === b.controlLocation;
}


export class Retype extends WorkflowPart {
  constructor(
    core: WorkflowCore,
    private readonly types: VolumeTypes,
    private readonly encryption: TypeEncryption,
  ) {
    super(core);
  }

  async retypeVolume(ctx: RequestContext, id: string, req: RetypeRequest): Promise<void> {
    const volume = await this.load.volumeRow(ctx, id);
    this.authorize(ctx, 'volume:retype', targetOf(volume));
    // Any type, private ones too, as Cinder looks it up with an elevated context.
    const newType = await this.types.resolveType(req.newType);
    const multiattach = isMultiattachType(newType);
    if ((volume.multiattach === 1) !== multiattach) {
      if (volume.status !== 'available') {
        throw errors.invalidInput(
          `Invalid volume_type passed, retypes affecting multiattach are only allowed on available volumes, the specified volume however currently has a status of: ${volume.status}.`,
        );
      }
      if (multiattach) this.authorize(ctx, 'volume:multiattach', targetOf(volume));
    }
    const [oldEncryption, newEncryption] = await Promise.all([this.encryption.storedFor(volume.volume_type_id), this.encryption.storedFor(newType.id)]);
    if (volume.volume_type_id !== newType.id && !sameEncryption(oldEncryption, newEncryption)) {
      throw errors.invalidVolume(
        req.migrationPolicy === 'never'
          ? 'Retype requires migration but is not allowed.'
          : 'Retype requires migration, and this service does not migrate volumes.',
      );
    }
    const [oldUsage, newUsage] = await Promise.all([this.typeUsage(volume, volume.volume_type_id), this.typeUsage(volume, newType.id)]);
    const limits = await loadLimits(this.db, volume.project_id, this.options.quotaDefaults);
    await inTransaction(this.db, async (trx) => {
      await takeUsage(trx, volume.project_id, newUsage, limits);
      await returnUsage(trx, volume.project_id, oldUsage);
      const changed = await trx
        .updateTable('volumes')
        .set({ volume_type_id: newType.id, multiattach: multiattach ? 1 : 0, updated_at: nowTimestamp() })
        .where('id', '=', volume.id)
        .where('status', 'in', ['available', 'in-use'])
        .where((eb) => eb.or([eb('migration_status', 'is', null), eb('migration_status', 'in', NOT_MIGRATING)]))
        .where('group_id', 'is', null)
        .where('consistencygroup_id', 'is', null)
        .where('volume_type_id', '!=', newType.id)
        .executeTakeFirst();
      if (Number(changed.numUpdatedRows) === 0) throw errors.invalidVolume(CANNOT_RETYPE);
    });
  }

  /** Cinder's get_volume_type_reservation with reserve_vol_type_only: what the volume and its snapshots hold of one type's resources. */
  private async typeUsage(volume: VolumeRow, typeId: string): Promise<UsageDelta> {
    const typeName = await typeNameOf(this.db, typeId);
    const snapshots = await this.db
      .selectFrom('snapshots')
      .select([sql<number>`count(*)`.as('count'), sql<number>`coalesce(sum(volume_size), 0)`.as('gigabytes')])
      .where('volume_id', '=', volume.id)
      .executeTakeFirstOrThrow();
    const usage: UsageDelta = { [`volumes_${typeName}`]: 1, [`gigabytes_${typeName}`]: volume.size + Number(snapshots.gigabytes) };
    if (Number(snapshots.count) > 0) usage[`snapshots_${typeName}`] = Number(snapshots.count);
    return usage;
  }
}
