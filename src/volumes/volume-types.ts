// Volume types and their extra specs. Readers see the public types and the private ones
// their project was given (an administrator sees them all); extra specs other than the few
// Cinder calls user-visible only with read_sensitive, an administrator's by default.
// Administrators manage them, and the default types are never deleted.

import { randomUUID } from 'node:crypto';
import type { ExpressionBuilder, Kysely } from 'kysely';
import type { Database } from '../db/schema.js';
import { nowTimestamp } from '../db/schema.js';
import { DEFAULT_VOLUME_TYPE } from '../db/migrations/0001_initial.js';
import { CinderError, errors } from '../errors.js';
import { UUID_RE, WorkflowPart } from './core.js';
import { TYPE_RESOURCE_PARTS } from './quota-resources.js';
import type { RequestContext, VolumeTypeRecord } from './types.js';

/** Cinder's USER_VISIBLE_EXTRA_SPECS: what a caller without read_sensitive may see. */
const USER_VISIBLE_EXTRA_SPECS = ['RESKEY:availability_zones', 'multiattach', 'replication_enabled'];

/** Cinder's test for a type whose volumes may be attached to several servers. */
export function isMultiattachType(type: VolumeTypeRecord): boolean {
  return type.extraSpecs['multiattach'] === '<is> True';
}

/** A new volume's user metadata, in the transaction that inserts its row. */
export async function insertNewVolumeMetadata(trx: Kysely<Database>, volumeId: string, metadata: Record<string, unknown> | null | undefined): Promise<void> {
  const entries = Object.entries(metadata ?? {});
  if (entries.length === 0) return;
  await trx
    .insertInto('volume_metadata')
    .values(entries.map(([key, value]) => ({ volume_id: volumeId, key, value: String(value) })))
    .execute();
}

/** A type's row is public, or one the project was given access to. */
function publicOrGivenTo(projectId: string) {
  return (eb: ExpressionBuilder<Database, 'volume_types'>) =>
    eb.or([
      eb('volume_types.is_public', '=', 1),
      eb(
        'volume_types.id',
        'in',
        eb.selectFrom('volume_type_projects').select('volume_type_projects.volume_type_id').where('volume_type_projects.project_id', '=', projectId),
      ),
    ]);
}

/** What a type update changes; an absent field stays as it is. */
export interface VolumeTypePatch {
  name?: string;
  description?: string;
  isPublic?: boolean;
}

/**
 * Cinder's update_quota_resource: a renamed type's per-type limits and usage follow it, in
 * the same transaction as the rename.
 */
async function renameTypeResources(trx: Kysely<Database>, oldName: string, newName: string): Promise<void> {
  for (const part of TYPE_RESOURCE_PARTS) {
    const [from, to] = [`${part}_${oldName}`, `${part}_${newName}`];
    await trx.updateTable('quotas').set({ resource: to }).where('resource', '=', from).execute();
    await trx.updateTable('quota_classes').set({ resource: to }).where('resource', '=', from).execute();
    await trx.updateTable('quota_usages').set({ resource: to }).where('resource', '=', from).execute();
  }
}

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

  /**
   * Cinder's get_by_name_or_id: the type by id or by name, among those `ctx` may use when it
   * is given (a private type the project was not given does not exist for it).
   */
  async resolveType(idOrName: string, ctx?: RequestContext): Promise<VolumeTypeRecord> {
    const row = await this.findRow(idOrName, ctx);
    if (row) return this.typeRecord(row);
    if (UUID_RE.test(idOrName)) throw errors.volumeTypeNotFound(idOrName);
    throw new CinderError('VOLUME_TYPE_NOT_FOUND', `Volume type with name ${idOrName} could not be found.`);
  }

  /**
   * The type of a new volume: the one asked for (which the caller must be able to see), its
   * source's, or the project's default type, else the service's.
   */
  async typeForNewVolume(ctx: RequestContext, requested: string | undefined, sourceTypeId: string | undefined): Promise<VolumeTypeRecord> {
    if (requested !== undefined) return this.resolveType(requested, ctx);
    if (sourceTypeId !== undefined) return this.resolveType(sourceTypeId);
    return this.defaultTypeFor(ctx);
  }

  /** The type `GET /types/default` names. */
  async getDefaultVolumeType(ctx: RequestContext): Promise<VolumeTypeRecord> {
    this.authorize(ctx, 'volume_extension:type_get');
    return this.visibleTo(ctx, await this.defaultTypeFor(ctx));
  }

  private async defaultTypeFor(ctx: RequestContext): Promise<VolumeTypeRecord> {
    const own = await this.db.selectFrom('default_volume_types').select('volume_type_id').where('project_id', '=', ctx.projectId).executeTakeFirst();
    if (own) return this.typeRow(own.volume_type_id, ctx);
    return this.resolveType(DEFAULT_VOLUME_TYPE);
  }

  /** Volumes of an encrypted type are encrypted (with the fixed key, so they show no key id). */
  async isEncrypted(typeId: string): Promise<boolean> {
    const row = await this.db.selectFrom('volume_type_encryption').select('encryption_id').where('volume_type_id', '=', typeId).executeTakeFirst();
    return row !== undefined;
  }

  /** The type by id or name; with `ctx`, only one that caller may see. */
  async typeRow(idOrName: string, ctx?: RequestContext): Promise<VolumeTypeRecord> {
    const row = await this.findRow(idOrName, ctx);
    if (!row) throw errors.volumeTypeNotFound(idOrName);
    return this.typeRecord(row);
  }

  private findRow(idOrName: string, ctx?: RequestContext) {
    let query = this.db
      .selectFrom('volume_types')
      .selectAll()
      .where((eb) => eb.or([eb('id', '=', idOrName), eb('name', '=', idOrName)]));
    if (ctx && !ctx.isAdmin) query = query.where(publicOrGivenTo(ctx.projectId));
    return query.executeTakeFirst();
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

  /**
   * Cinder's listing: the public types and the private ones given to the caller's project;
   * an administrator may ask for the private ones only (`isPublic` false) or all (null).
   */
  async listVolumeTypes(ctx: RequestContext, filter: { isPublic?: boolean | null } = {}): Promise<VolumeTypeRecord[]> {
    this.authorize(ctx, 'volume_extension:type_get_all');
    const isPublic = ctx.isAdmin && filter.isPublic !== undefined ? filter.isPublic : true;
    let query = this.db.selectFrom('volume_types').selectAll();
    if (isPublic === true) query = query.where(publicOrGivenTo(ctx.projectId));
    if (isPublic === false) query = query.where('is_public', '=', 0);
    const rows = await query.orderBy('created_at').orderBy('id').execute();
    return Promise.all(rows.map(async (r) => this.visibleTo(ctx, await this.typeRecord(r))));
  }

  async getVolumeType(ctx: RequestContext, idOrName: string): Promise<VolumeTypeRecord> {
    this.authorize(ctx, 'volume_extension:type_get');
    return this.visibleTo(ctx, await this.typeRow(idOrName, ctx));
  }

  /** Cinder's update: name (unique), description and is_public; a renamed type's per-type quotas follow it. */
  async updateVolumeType(ctx: RequestContext, id: string, patch: VolumeTypePatch): Promise<VolumeTypeRecord> {
    this.authorize(ctx, 'volume_extension:type_update');
    const type = await this.typeRow(id);
    const nameTaken = async () =>
      patch.name !== undefined &&
      (await this.db.selectFrom('volume_types').select('id').where('name', '=', patch.name).where('id', '!=', type.id).executeTakeFirst()) !== undefined;
    if (await nameTaken()) throw errors.conflict(`Volume Type ${patch.name} already exists.`);
    try {
      await this.db.transaction().execute(async (trx) => {
        await trx
          .updateTable('volume_types')
          .set({
            ...(patch.name !== undefined ? { name: patch.name } : {}),
            ...(patch.description !== undefined ? { description: patch.description } : {}),
            ...(patch.isPublic !== undefined ? { is_public: patch.isPublic ? 1 : 0 } : {}),
          })
          .where('id', '=', type.id)
          .execute();
        if (patch.name !== undefined && patch.name !== type.name) await renameTypeResources(trx, type.name, patch.name);
      });
    } catch (err) {
      // The unique name constraint decides a race between two renames to one name.
      if (await nameTaken()) throw errors.conflict(`Volume Type ${patch.name} already exists.`);
      throw err;
    }
    return this.visibleTo(ctx, await this.typeRow(type.id));
  }

  /** A type's extra specs (one of them, with `key`), as the caller may see them. */
  async getExtraSpecs(ctx: RequestContext, typeId: string, key?: string): Promise<Record<string, string>> {
    this.authorize(ctx, key === undefined ? 'volume_extension:types_extra_specs:index' : 'volume_extension:types_extra_specs:show');
    const specs = this.visibleSpecs(ctx, (await this.typeRow(typeId, ctx)).extraSpecs);
    if (key === undefined) return specs;
    return key in specs ? { [key]: specs[key]! } : {};
  }

  async deleteVolumeType(ctx: RequestContext, id: string): Promise<void> {
    this.authorize(ctx, 'volume_extension:type_delete');
    const type = await this.typeRow(id);
    const projectDefault = await this.db.selectFrom('default_volume_types').select('project_id').where('volume_type_id', '=', type.id).executeTakeFirst();
    if (projectDefault || type.name === DEFAULT_VOLUME_TYPE) {
      throw errors.badRequest(`The volume type ${type.id} is a default volume type and cannot be deleted.`);
    }
    const used = await this.db.selectFrom('volumes').select('id').where('volume_type_id', '=', type.id).executeTakeFirst();
    if (used) throw errors.badRequest('Target volume type is still in use.');
    await this.db.transaction().execute(async (trx) => {
      await trx.deleteFrom('volume_type_extra_specs').where('volume_type_id', '=', type.id).execute();
      await trx.deleteFrom('volume_type_projects').where('volume_type_id', '=', type.id).execute();
      await trx.deleteFrom('volume_type_encryption').where('volume_type_id', '=', type.id).execute();
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
