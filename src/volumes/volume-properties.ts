// A volume's own fields as the API shows and edits them: show, list, name and
// description, metadata, the bootable and read-only flags. Nothing here reaches the
// storage host or moves the volume's status.

import type { Transaction } from 'kysely';
import type { Database, VolumeUpdate } from '../db/schema.js';
import { nowTimestamp } from '../db/schema.js';
import { errors } from '../errors.js';
import { targetOf, WorkflowPart } from './core.js';
import type { VolumeRow } from '../db/schema.js';
import type { EnforcedRule } from '../policy/index.js';
import { compileVolumeFilters, conditionsExpression, paginate, volumeSort } from './listing.js';
import { Q } from './queries.js';
import type { ListQuery, RequestContext, UpdateVolumeRequest, VolumeRecord } from './types.js';

export class VolumeProperties extends WorkflowPart {
  async getVolume(ctx: RequestContext, id: string): Promise<VolumeRecord> {
    const row = await this.load.volumeRow(ctx, id);
    // Refused is reported as missing, so that another project's volume ids do not leak.
    if (!this.allows(ctx, 'volume:get', targetOf(row))) throw errors.volumeNotFound(id);
    return this.load.record(row);
  }

  async getMetadata(ctx: RequestContext, id: string): Promise<Record<string, string>> {
    await this.authorizedRow(ctx, 'volume:get_volume_metadata', id);
    const rows = await this.db.selectFrom('volume_metadata').selectAll().where('volume_id', '=', id).orderBy('key').execute();
    return Object.fromEntries(rows.map((r) => [r.key, r.value]));
  }

  /** The volume, if the caller may see it and `rule` allows the caller on it. */
  private async authorizedRow(ctx: RequestContext, rule: EnforcedRule, id: string): Promise<VolumeRow> {
    const row = await this.load.volumeRow(ctx, id);
    this.authorize(ctx, rule, targetOf(row));
    return row;
  }

  async listVolumes(ctx: RequestContext, query: ListQuery): Promise<{ volumes: VolumeRecord[]; count: number }> {
    this.authorize(ctx, 'volume:get_all');
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
    const row = await this.authorizedRow(ctx, 'volume:update', id);
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

  async setBootable(ctx: RequestContext, id: string, bootable: boolean): Promise<void> {
    // Cinder's os-set_bootable is a volume update.
    await this.authorizedRow(ctx, 'volume:update', id);
    await this.db
      .updateTable('volumes')
      .set({ bootable: bootable ? 1 : 0, updated_at: nowTimestamp() })
      .where('id', '=', id)
      .execute();
  }

  async updateReadonlyFlag(ctx: RequestContext, id: string, readonly: boolean): Promise<void> {
    const row = await this.authorizedRow(ctx, 'volume:update_readonly_flag', id);
    if (row.status !== 'available') {
      throw errors.invalidVolume(`Volume ${id} status must be available to update readonly flag, but current status is: ${row.status}.`);
    }
    await Q.setAdminMeta(this.db, id, 'readonly', readonly ? 'True' : 'False');
  }

  async setMetadata(ctx: RequestContext, id: string, metadata: Record<string, string>, how: 'merge' | 'replace' | 'item'): Promise<Record<string, string>> {
    // Cinder: POST adds keys (create); PUT of the whole set or of one key is an update.
    await this.authorizedRow(ctx, how === 'merge' ? 'volume:create_volume_metadata' : 'volume:update_volume_metadata', id);
    await this.db.transaction().execute((trx) => this.writeMetadata(trx, id, metadata, how === 'replace'));
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
    await this.authorizedRow(ctx, 'volume:delete_volume_metadata', id);
    const result = await this.db.deleteFrom('volume_metadata').where('volume_id', '=', id).where('key', '=', key).executeTakeFirst();
    if (Number(result.numDeletedRows) === 0) throw errors.notFound(`Volume ${id} has no metadata with key ${key}.`);
  }
}
