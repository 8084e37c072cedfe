// A volume type's encryption (Cinder's volume_type_encryption extension). The key manager
// is Cinder's fixed-key one in effect: a volume of an encrypted type is marked encrypted and
// has no key id of its own to show. While volumes of a type exist its encryption is fixed.

import { randomUUID } from 'node:crypto';
import { nowTimestamp, parseTimestamp, type EncryptionRow } from '../db/schema.js';
import { errors } from '../errors.js';
import { WorkflowPart, type WorkflowCore } from './core.js';
import type { EncryptionRecord, EncryptionSpecs } from './type-management.js';
import type { RequestContext } from './types.js';
import type { VolumeTypes } from './volume-types.js';

function encryptionRecord(row: EncryptionRow): EncryptionRecord {
  return {
    volumeTypeId: row.volume_type_id,
    encryptionId: row.encryption_id,
    provider: row.provider,
    cipher: row.cipher,
    keySize: row.key_size,
    controlLocation: row.control_location,
    createdAt: parseTimestamp(row.created_at)!,
    updatedAt: parseTimestamp(row.updated_at),
  };
}

/** The columns `specs` sets; a field it leaves out is not touched. */
function encryptionColumns(specs: EncryptionSpecs) {
  return {
    ...(specs.provider !== undefined ? { provider: specs.provider } : {}),
    ...(specs.cipher !== undefined ? { cipher: specs.cipher } : {}),
    ...(specs.keySize !== undefined ? { key_size: specs.keySize } : {}),
    ...(specs.controlLocation !== undefined ? { control_location: specs.controlLocation } : {}),
  };
}

const notFound = (typeId: string) => errors.notFound(`Volume type encryption for type ${typeId} does not exist.`);

export class TypeEncryption extends WorkflowPart {
  constructor(
    core: WorkflowCore,
    private readonly types: VolumeTypes,
  ) {
    super(core);
  }

  /** The type's encryption, whoever asks: for the workflow's own decisions. */
  async storedFor(typeId: string): Promise<EncryptionRecord | null> {
    const row = await this.db.selectFrom('volume_type_encryption').selectAll().where('volume_type_id', '=', typeId).executeTakeFirst();
    return row ? encryptionRecord(row) : null;
  }

  /** Cinder refuses to change the encryption of a type that volumes already have. */
  private async refuseIfInUse(typeId: string, what: 'create' | 'update' | 'delete'): Promise<void> {
    const used = await this.db.selectFrom('volumes').select('id').where('volume_type_id', '=', typeId).executeTakeFirst();
    if (used) throw errors.badRequest(`Cannot ${what} encryption specs. Volume type in use.`);
  }

  async getEncryption(ctx: RequestContext, typeId: string): Promise<EncryptionRecord | null> {
    this.authorize(ctx, 'volume_extension:volume_type_encryption:get');
    const type = await this.types.typeRow(typeId, ctx);
    return this.storedFor(type.id);
  }

  async createEncryption(ctx: RequestContext, typeId: string, specs: EncryptionSpecs): Promise<EncryptionRecord> {
    this.authorize(ctx, 'volume_extension:volume_type_encryption:create');
    // Cinder's order: in use before the type's existence.
    await this.refuseIfInUse(typeId, 'create');
    const type = await this.types.typeRow(typeId);
    const exists = () => errors.badRequest(`Volume type encryption for type ${type.id} already exists.`);
    if (await this.storedFor(type.id)) throw exists();
    try {
      await this.db
        .insertInto('volume_type_encryption')
        .values({
          volume_type_id: type.id,
          encryption_id: randomUUID(),
          provider: null,
          cipher: null,
          key_size: null,
          control_location: null,
          ...encryptionColumns(specs),
          created_at: nowTimestamp(),
          updated_at: null,
        })
        .execute();
    } catch (err) {
      // The primary key decides a race between two creates for one type.
      if (await this.storedFor(type.id)) throw exists();
      throw err;
    }
    return (await this.storedFor(type.id))!;
  }

  async updateEncryption(ctx: RequestContext, typeId: string, specs: EncryptionSpecs): Promise<void> {
    this.authorize(ctx, 'volume_extension:volume_type_encryption:update');
    const type = await this.types.typeRow(typeId);
    await this.refuseIfInUse(type.id, 'update');
    const updated = await this.db
      .updateTable('volume_type_encryption')
      .set({ ...encryptionColumns(specs), updated_at: nowTimestamp() })
      .where('volume_type_id', '=', type.id)
      .executeTakeFirst();
    if (Number(updated.numUpdatedRows) === 0) throw notFound(typeId);
  }

  async deleteEncryption(ctx: RequestContext, typeId: string): Promise<void> {
    this.authorize(ctx, 'volume_extension:volume_type_encryption:delete');
    await this.refuseIfInUse(typeId, 'delete');
    const deleted = await this.db.deleteFrom('volume_type_encryption').where('volume_type_id', '=', typeId).executeTakeFirst();
    if (Number(deleted.numDeletedRows) === 0) throw notFound(typeId);
  }
}
