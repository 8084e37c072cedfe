// Volume types and their extra specs. Readers see them (extra specs other than the few
// Cinder calls user-visible only with read_sensitive, an administrator's by default);
// administrators manage them, and the default type is never deleted.

import { randomUUID } from 'node:crypto';
import { nowTimestamp } from '../db/schema.js';
import { DEFAULT_VOLUME_TYPE } from '../db/migrations/0001_initial.js';
import { CinderError, errors } from '../errors.js';
import { UUID_RE, WorkflowPart } from './core.js';
import type { RequestContext, VolumeTypeRecord } from './types.js';

/** Cinder's USER_VISIBLE_EXTRA_SPECS: what a caller without read_sensitive may see. */
const USER_VISIBLE_EXTRA_SPECS = ['RESKEY:availability_zones', 'multiattach', 'replication_enabled'];

export class VolumeTypes extends WorkflowPart {
  /** The type as `ctx` may see it: its extra specs only with access_types_extra_specs, sensitive ones only with read_sensitive. */
  private visibleTo(ctx: RequestContext, type: VolumeTypeRecord): VolumeTypeRecord {
    if (!this.allows(ctx, 'volume_extension:access_types_extra_specs')) return { ...type, extraSpecs: {} };
    return { ...type, extraSpecs: this.visibleSpecs(ctx, type.extraSpecs) };
  }

  private visibleSpecs(ctx: RequestContext, specs: Record<string, string>): Record<string, string> {
    if (this.allows(ctx, 'volume_extension:types_extra_specs:read_sensitive')) return specs;
    return Object.fromEntries(Object.entries(specs).filter(([key]) => USER_VISIBLE_EXTRA_SPECS.includes(key)));
  }

  private async typeRecord(row: { id: string; name: string; description: string | null; is_public: number; qos_specs_id: string | null }): Promise<VolumeTypeRecord> {
    const specs = await this.db.selectFrom('volume_type_extra_specs').selectAll().where('volume_type_id', '=', row.id).execute();
    return {
      id: row.id,
      name: row.name,
      description: row.description,
      isPublic: row.is_public === 1,
      extraSpecs: Object.fromEntries(specs.map((s) => [s.key, s.value])),
      qosSpecsId: row.qos_specs_id,
    };
  }

  async resolveType(idOrName: string): Promise<VolumeTypeRecord> {
    const row = await this.db
      .selectFrom('volume_types')
      .selectAll()
      .where((eb) => eb.or([eb('id', '=', idOrName), eb('name', '=', idOrName)]))
      .executeTakeFirst();
    if (row) return this.typeRecord(row);
    if (UUID_RE.test(idOrName)) throw errors.volumeTypeNotFound(idOrName);
    throw new CinderError('VOLUME_TYPE_NOT_FOUND', `Volume type with name ${idOrName} could not be found.`);
  }

  async createVolumeType(
    ctx: RequestContext,
    req: { name: string; description?: string | null; isPublic?: boolean; extraSpecs?: Record<string, string> },
  ): Promise<VolumeTypeRecord> {
    this.authorize(ctx, 'volume_extension:type_create');
    const id = randomUUID();
    const taken = await this.db.selectFrom('volume_types').select('id').where('name', '=', req.name).executeTakeFirst();
    if (taken) throw errors.conflict(`Volume Type ${req.name} already exists.`);
    try {
      await this.db.transaction().execute(async (trx) => {
        await trx
          .insertInto('volume_types')
          .values({ id, name: req.name, description: req.description ?? null, is_public: req.isPublic === false ? 0 : 1, created_at: nowTimestamp() })
          .execute();
        const specs = Object.entries(req.extraSpecs ?? {});
        if (specs.length > 0) {
          await trx
            .insertInto('volume_type_extra_specs')
            .values(specs.map(([key, value]) => ({ volume_type_id: id, key, value: String(value) })))
            .execute();
        }
      });
    } catch (err) {
      // The unique name constraint decides a race between two creates of one name.
      if (await this.db.selectFrom('volume_types').select('id').where('name', '=', req.name).executeTakeFirst()) {
        throw errors.conflict(`Volume Type ${req.name} already exists.`);
      }
      throw err;
    }
    return this.getVolumeType(ctx, id);
  }

  async listVolumeTypes(ctx: RequestContext): Promise<VolumeTypeRecord[]> {
    this.authorize(ctx, 'volume_extension:type_get_all');
    const rows = await this.db.selectFrom('volume_types').selectAll().orderBy('created_at').orderBy('id').execute();
    return Promise.all(rows.map(async (r) => this.visibleTo(ctx, await this.typeRecord(r))));
  }

  async getVolumeType(ctx: RequestContext, idOrName: string): Promise<VolumeTypeRecord> {
    this.authorize(ctx, 'volume_extension:type_get');
    return this.visibleTo(ctx, await this.typeRow(idOrName));
  }

  /** A type's extra specs (one of them, with `key`), as the caller may see them. */
  async getExtraSpecs(ctx: RequestContext, typeId: string, key?: string): Promise<Record<string, string>> {
    this.authorize(ctx, key === undefined ? 'volume_extension:types_extra_specs:index' : 'volume_extension:types_extra_specs:show');
    const specs = this.visibleSpecs(ctx, (await this.typeRow(typeId)).extraSpecs);
    if (key === undefined) return specs;
    return key in specs ? { [key]: specs[key]! } : {};
  }

  private async typeRow(idOrName: string): Promise<VolumeTypeRecord> {
    const row = await this.db
      .selectFrom('volume_types')
      .selectAll()
      .where((eb) => eb.or([eb('id', '=', idOrName), eb('name', '=', idOrName)]))
      .executeTakeFirst();
    if (!row) throw errors.volumeTypeNotFound(idOrName);
    return this.typeRecord(row);
  }

  async deleteVolumeType(ctx: RequestContext, id: string): Promise<void> {
    this.authorize(ctx, 'volume_extension:type_delete');
    const type = await this.typeRow(id);
    if (type.name === DEFAULT_VOLUME_TYPE) throw errors.badRequest('Default volume type can not be deleted.');
    const used = await this.db.selectFrom('volumes').select('id').where('volume_type_id', '=', type.id).executeTakeFirst();
    if (used) throw errors.badRequest(`Volume Type ${type.id} deletion is not allowed with volumes present with the type.`);
    await this.db.transaction().execute(async (trx) => {
      await trx.deleteFrom('volume_type_extra_specs').where('volume_type_id', '=', type.id).execute();
      await trx.deleteFrom('volume_types').where('id', '=', type.id).execute();
    });
  }

  async setExtraSpecs(ctx: RequestContext, typeId: string, specs: Record<string, string>, how: 'create' | 'update'): Promise<Record<string, string>> {
    this.authorize(ctx, how === 'create' ? 'volume_extension:types_extra_specs:create' : 'volume_extension:types_extra_specs:update');
    const type = await this.typeRow(typeId);
    for (const [key, value] of Object.entries(specs)) {
      await this.db
        .insertInto('volume_type_extra_specs')
        .values({ volume_type_id: type.id, key, value: String(value) })
        .onConflict((oc) => oc.columns(['volume_type_id', 'key']).doUpdateSet({ value: String(value) }))
        .execute();
    }
    return (await this.typeRow(type.id)).extraSpecs;
  }

  async deleteExtraSpec(ctx: RequestContext, typeId: string, key: string): Promise<void> {
    this.authorize(ctx, 'volume_extension:types_extra_specs:delete');
    const type = await this.typeRow(typeId);
    const result = await this.db
      .deleteFrom('volume_type_extra_specs')
      .where('volume_type_id', '=', type.id)
      .where('key', '=', key)
      .executeTakeFirst();
    if (Number(result.numDeletedRows) === 0) throw errors.notFound(`Volume Type ${type.id} has no extra specs with key ${key}.`);
  }
}
