// Group types and their specs: administrators manage them, every reader lists the public
// ones (an administrator also the private ones), and a type in use by a group stays.

import { randomUUID } from 'node:crypto';
import type { GroupTypeRow } from '../db/schema.js';
import { nowTimestamp } from '../db/schema.js';
import { inTransaction } from '../db/prepared.js';
import { CinderError, errors } from '../errors.js';
import { UUID_RE, WorkflowPart } from './core.js';
import type { GroupTypePatch, GroupTypeRecord, GroupTypeRequest } from './group-records.js';
import { paginate, sortColumns } from './listing.js';
import type { ListQuery, RequestContext } from './types.js';

const GROUP_TYPE_SORT = { id: 'id', name: 'name', description: 'description', is_public: 'is_public', created_at: 'created_at' } as const;

export const groupTypeNotFound = (id: string) => new CinderError('NOT_FOUND', `Group type ${id} could not be found.`);

export class GroupTypes extends WorkflowPart {
  private async record(ctx: RequestContext, row: GroupTypeRow): Promise<GroupTypeRecord> {
    const specs = this.allows(ctx, 'group:access_group_types_specs') ? await this.specsOf(row.id) : {};
    return { id: row.id, name: row.name, description: row.description, isPublic: row.is_public === 1, groupSpecs: specs };
  }

  private async specsOf(typeId: string): Promise<Record<string, string | null>> {
    const rows = await this.db.selectFrom('group_type_specs').select(['key', 'value']).where('group_type_id', '=', typeId).execute();
    return Object.fromEntries(rows.map((r) => [r.key, r.value]));
  }

  /** By id, as the caller may see it: a private type only for an administrator. */
  async typeRow(ctx: RequestContext, id: string): Promise<GroupTypeRow> {
    const row = await this.db.selectFrom('group_types').selectAll().where('id', '=', id).executeTakeFirst();
    if (!row || (!ctx.isAdmin && row.is_public !== 1)) throw groupTypeNotFound(id);
    return row;
  }

  /** Cinder's lookup for a new group: a UUID is an id first and then a name, anything else a name. */
  async resolve(ctx: RequestContext, idOrName: string): Promise<GroupTypeRow> {
    const byName = async () => {
      const row = await this.db.selectFrom('group_types').selectAll().where('name', '=', idOrName).executeTakeFirst();
      return row && (ctx.isAdmin || row.is_public === 1) ? row : null;
    };
    if (!UUID_RE.test(idOrName)) {
      const row = await byName();
      if (!row) throw new CinderError('NOT_FOUND', `Group type with name ${idOrName} could not be found.`);
      return row;
    }
    try {
      return await this.typeRow(ctx, idOrName);
    } catch (err) {
      const row = await byName();
      if (row) return row;
      throw err;
    }
  }

  async createGroupType(ctx: RequestContext, req: GroupTypeRequest): Promise<GroupTypeRecord> {
    this.authorize(ctx, 'group:group_types:create');
    const id = randomUUID();
    const exists = () => errors.conflict(`Group Type ${req.name} already exists.`);
    if (await this.db.selectFrom('group_types').select('id').where('name', '=', req.name).executeTakeFirst()) throw exists();
    try {
      await inTransaction(this.db, async (trx) => {
        await trx
          .insertInto('group_types')
          .values({ id, name: req.name, description: req.description ?? null, is_public: req.isPublic ? 1 : 0, created_at: nowTimestamp() })
          .execute();
        const specs = Object.entries(req.groupSpecs ?? {});
        if (specs.length > 0) {
          await trx
            .insertInto('group_type_specs')
            .values(specs.map(([key, value]) => ({ group_type_id: id, key, value })))
            .execute();
        }
      });
    } catch (err) {
      // The unique name decides a race between two creates of one name.
      if (await this.db.selectFrom('group_types').select('id').where('name', '=', req.name).executeTakeFirst()) throw exists();
      throw err;
    }
    return this.record(ctx, await this.typeRow(ctx, id));
  }

  async listGroupTypes(ctx: RequestContext, query: ListQuery, isPublic: boolean | null): Promise<GroupTypeRecord[]> {
    let select = this.db.selectFrom('group_types').selectAll();
    // Only an administrator may ask for private types, as in Cinder.
    const wanted = ctx.isAdmin ? isPublic : true;
    if (wanted !== null) select = select.where('is_public', '=', wanted ? 1 : 0);
    for (const { column, dir } of sortColumns(query.sort, GROUP_TYPE_SORT)) select = select.orderBy(column, dir);
    const rows = paginate(await select.execute(), query);
    return Promise.all(rows.map((row) => this.record(ctx, row)));
  }

  async getGroupType(ctx: RequestContext, id: string): Promise<GroupTypeRecord> {
    return this.record(ctx, await this.typeRow(ctx, id));
  }

  /** The type of that name, whoever asks (Cinder's default group type lookup), or null. */
  async groupTypeNamed(ctx: RequestContext, name: string): Promise<GroupTypeRecord | null> {
    const row = await this.db.selectFrom('group_types').selectAll().where('name', '=', name).executeTakeFirst();
    return row ? this.record(ctx, row) : null;
  }

  async updateGroupType(ctx: RequestContext, id: string, patch: GroupTypePatch): Promise<GroupTypeRecord> {
    this.authorize(ctx, 'group:group_types:update');
    if (patch.name !== undefined && patch.name !== null && patch.name.trim().length === 0) {
      throw errors.badRequest('Group type name can not be empty.');
    }
    if ((patch.name ?? null) === null && (patch.description ?? null) === null && patch.isPublic === undefined) {
      throw errors.badRequest('Specify group type name, description or a combination thereof.');
    }
    const row = await this.typeRow(ctx, id);
    const set: { updated_at: string; name?: string; description?: string | null; is_public?: number } = { updated_at: nowTimestamp() };
    if (patch.name) set.name = patch.name;
    if (patch.description !== undefined && patch.description !== null) set.description = patch.description;
    if (patch.isPublic !== undefined) set.is_public = patch.isPublic ? 1 : 0;
    if (set.name !== undefined && set.name !== row.name) {
      const taken = await this.db.selectFrom('group_types').select('id').where('name', '=', set.name).executeTakeFirst();
      if (taken) throw errors.conflict(`Group Type ${set.name} already exists.`);
    }
    await this.db.updateTable('group_types').set(set).where('id', '=', row.id).execute();
    return this.getGroupType(ctx, row.id);
  }

  async deleteGroupType(ctx: RequestContext, id: string): Promise<void> {
    this.authorize(ctx, 'group:group_types:delete');
    const row = await this.typeRow(ctx, id);
    // The delete and the check for groups of the type are one statement, so a group
    // created meanwhile either keeps the type or finds it gone.
    await inTransaction(this.db, async (trx) => {
      const deleted = await trx
        .deleteFrom('group_types')
        .where('id', '=', row.id)
        .where((eb) => eb.not(eb.exists(eb.selectFrom('groups').select('id').where('group_type_id', '=', row.id))))
        .executeTakeFirst();
      if (Number(deleted.numDeletedRows) === 0) throw errors.badRequest('Target group type is still in use.');
      await trx.deleteFrom('group_type_specs').where('group_type_id', '=', row.id).execute();
    });
  }

  /** All of a type's specs (index), or the one named `key` (show). */
  async getGroupSpecs(ctx: RequestContext, typeId: string, key?: string): Promise<Record<string, string | null>> {
    this.authorize(ctx, key === undefined ? 'group:group_types_specs:get_all' : 'group:group_types_specs:get');
    const specs = await this.specsOf((await this.typeRow(ctx, typeId)).id);
    if (key === undefined) return specs;
    if (!(key in specs)) throw errors.notFound(`Group Type ${typeId} has no extra spec with key ${key}.`);
    return { [key]: specs[key] ?? null };
  }

  /** create: POST of a set of specs; update: PUT of one. */
  async setGroupSpecs(ctx: RequestContext, typeId: string, specs: Record<string, string | null>, how: 'create' | 'update'): Promise<void> {
    this.authorize(ctx, how === 'create' ? 'group:group_types_specs:create' : 'group:group_types_specs:update');
    const type = await this.typeRow(ctx, typeId);
    await inTransaction(this.db, async (trx) => {
      for (const [key, value] of Object.entries(specs)) {
        await trx
          .insertInto('group_type_specs')
          .values({ group_type_id: type.id, key, value })
          .onConflict((oc) => oc.columns(['group_type_id', 'key']).doUpdateSet({ value }))
          .execute();
      }
    });
  }

  async deleteGroupSpec(ctx: RequestContext, typeId: string, key: string): Promise<void> {
    this.authorize(ctx, 'group:group_types_specs:delete');
    const type = await this.typeRow(ctx, typeId);
    const deleted = await this.db.deleteFrom('group_type_specs').where('group_type_id', '=', type.id).where('key', '=', key).executeTakeFirst();
    if (Number(deleted.numDeletedRows) === 0) throw errors.notFound(`Group Type ${type.id} has no specs with key ${key}.`);
  }
}
