// QoS specs (administrators only, as in Cinder): named limits for a consumer, and the
// volume types that use them. A change to the specs or to a type's association reaches
// the exports of the volumes it concerns (refreshLimits), so an attached volume is
// throttled by what its type says now rather than by what it said at attach time.

import { randomUUID } from 'node:crypto';
import type { Kysely } from 'kysely';
import type { Database } from '../db/schema.js';
import { nowTimestamp, parseTimestamp } from '../db/schema.js';
import { inTransaction } from '../db/prepared.js';
import { CinderError, errors } from '../errors.js';
import { WorkflowPart } from './core.js';
import { paginate } from './listing.js';
import type { ListQuery, QosAssociation, QosSpecsRecord, RequestContext } from './types.js';

export const QOS_CONSUMERS = ['front-end', 'back-end', 'both'] as const;

/** Cinder's message quotes the field object's repr; clients only display it. */
const CONSUMER_REFUSAL = `Invalid qos specs: Valid consumer of QoS specs are: QoSConsumerValues(default=<class 'oslo_versionedobjects.fields.UnspecifiedDefault'>,nullable=False,valid_values=('back-end', 'front-end', 'both'))`;

const qosNotFound = (id: string) => new CinderError('NOT_FOUND', `No such QoS spec ${id}.`);

/** Cinder's validate_dictionary_string_length, in oslo's words. */
function checkLengths(specs: Record<string, unknown>): void {
  for (const [key, value] of Object.entries(specs)) {
    if (key.length < 1 || key.length > 255) throw errors.invalidInput(`Key "${key}" has ${key.length} characters, more than 255.`);
    if (value === null) continue;
    if (typeof value !== 'string') throw errors.invalidInput(`Value for key "${key}" is not a string or unicode`);
    if (value.length > 255) throw errors.invalidInput(`Value for key "${key}" has ${value.length} characters, more than 255.`);
  }
}

function checkConsumer(consumer: unknown): asserts consumer is (typeof QOS_CONSUMERS)[number] {
  if (!(QOS_CONSUMERS as readonly unknown[]).includes(consumer)) throw new CinderError('BAD_REQUEST', CONSUMER_REFUSAL);
}

/** The QoS filters Cinder matches against its key/value rows: `id`, and `value` (the name); any other matches nothing. */
function matchesFilters(record: QosSpecsRecord, filters: Record<string, string>): boolean {
  return Object.entries(filters).every(([key, wanted]) => {
    if (key === 'id') return record.id === wanted;
    if (key === 'value') return record.name === wanted;
    return false;
  });
}

export class QosSpecs extends WorkflowPart {
  async createQosSpecs(ctx: RequestContext, name: string, given: Record<string, unknown>): Promise<QosSpecsRecord> {
    this.authorize(ctx, 'volume_extension:qos_specs_manage:create');
    checkLengths(given);
    const { consumer = 'back-end', ...specs } = given;
    checkConsumer(consumer);
    const taken = () => this.db.selectFrom('qos_specs').select('id').where('name', '=', name).executeTakeFirst();
    if (await taken()) throw errors.conflict(`QoS Specs ${name} already exists.`);
    const id = randomUUID();
    try {
      await inTransaction(this.db, async (trx) => {
        await trx.insertInto('qos_specs').values({ id, name, consumer, created_at: nowTimestamp(), updated_at: null }).execute();
        const rows = Object.entries(specs).map(([key, value]) => ({ qos_specs_id: id, key, value: value as string | null }));
        if (rows.length > 0) await trx.insertInto('qos_specs_keys').values(rows).execute();
      });
    } catch (err) {
      // The unique name decides between two creates of one name.
      if (await taken()) throw errors.conflict(`QoS Specs ${name} already exists.`);
      throw err;
    }
    return this.record(id);
  }

  async listQosSpecs(ctx: RequestContext, query: ListQuery): Promise<QosSpecsRecord[]> {
    this.authorize(ctx, 'volume_extension:qos_specs_manage:get_all');
    const [sort] = query.sort;
    const column = sort?.key === 'name' ? 'name' : sort?.key === 'id' ? 'id' : 'created_at';
    const rows = await this.db
      .selectFrom('qos_specs')
      .select('id')
      .orderBy(column, sort?.dir ?? 'desc')
      .orderBy('id', sort?.dir ?? 'desc')
      .execute();
    const records = await Promise.all(rows.map((r) => this.record(r.id)));
    return paginate(
      records.filter((r) => matchesFilters(r, query.filters as Record<string, string>)),
      query,
    );
  }

  async getQosSpecs(ctx: RequestContext, id: string): Promise<QosSpecsRecord> {
    this.authorize(ctx, 'volume_extension:qos_specs_manage:get');
    return this.record(id);
  }

  /** Sets keys (and the consumer, when given); returns nothing, as Cinder answers with the request body. */
  async setQosKeys(ctx: RequestContext, id: string, given: Record<string, string | null>): Promise<void> {
    this.authorize(ctx, 'volume_extension:qos_specs_manage:update');
    await this.record(id);
    checkLengths(given);
    const { consumer, ...specs } = given;
    if ('consumer' in given) checkConsumer(consumer);
    await inTransaction(this.db, async (trx) => {
      const now = nowTimestamp();
      await trx
        .updateTable('qos_specs')
        .set({ updated_at: now, ...(consumer ? { consumer } : {}) })
        .where('id', '=', id)
        .execute();
      for (const [key, value] of Object.entries(specs)) {
        await trx
          .insertInto('qos_specs_keys')
          .values({ qos_specs_id: id, key, value })
          .onConflict((oc) => oc.columns(['qos_specs_id', 'key']).doUpdateSet({ value }))
          .execute();
      }
    });
    await this.refreshVolumesOf(id);
  }

  /** Keys before the first missing one stay deleted, as in Cinder, whose object saves what it removed either way. */
  async deleteQosKeys(ctx: RequestContext, id: string, keys: string[]): Promise<void> {
    this.authorize(ctx, 'volume_extension:qos_specs_manage:delete');
    const current = await this.record(id);
    const missing = keys.find((key) => !(key in current.specs));
    const removed = missing === undefined ? keys : keys.slice(0, keys.indexOf(missing));
    if (removed.length > 0) {
      await inTransaction(this.db, async (trx) => {
        await trx.deleteFrom('qos_specs_keys').where('qos_specs_id', '=', id).where('key', 'in', removed).execute();
        await trx.updateTable('qos_specs').set({ updated_at: nowTimestamp() }).where('id', '=', id).execute();
      });
      await this.refreshVolumesOf(id);
    }
    if (missing !== undefined) throw new CinderError('NOT_FOUND', `QoS spec ${id} has no spec with key ${missing}.`);
  }

  async deleteQosSpecs(ctx: RequestContext, id: string, force: boolean): Promise<void> {
    this.authorize(ctx, 'volume_extension:qos_specs_manage:delete');
    await this.record(id);
    const types = await this.typesOf(id);
    if (types.length > 0 && !force) throw errors.badRequest('Qos specs still in use.');
    await inTransaction(this.db, async (trx) => {
      await trx.updateTable('volume_types').set({ qos_specs_id: null }).where('qos_specs_id', '=', id).execute();
      await trx.deleteFrom('qos_specs_keys').where('qos_specs_id', '=', id).execute();
      await trx.deleteFrom('qos_specs').where('id', '=', id).execute();
    });
    for (const type of types) await this.refreshVolumesOfType(type.id);
  }

  async getQosAssociations(ctx: RequestContext, id: string): Promise<QosAssociation[]> {
    this.authorize(ctx, 'volume_extension:qos_specs_manage:get_all');
    await this.record(id);
    return (await this.typesOf(id)).map((t) => ({ associationType: 'volume_type', id: t.id, name: t.name }));
  }

  async associateQosSpecs(ctx: RequestContext, id: string, typeId: string | undefined): Promise<void> {
    this.authorize(ctx, 'volume_extension:qos_specs_manage:update');
    if (!typeId) throw errors.badRequest('Volume Type id must not be None.');
    await this.record(id);
    const type = await this.typeRow(typeId);
    if (type.qos_specs_id === id) return;
    if (type.qos_specs_id !== null) {
      throw errors.badRequest(`Invalid volume type: Type ${type.id} is already associated with another qos specs: ${type.qos_specs_id}`);
    }
    // Conditional: of two associations of one type racing, one wins and the other is refused.
    const set = await this.db
      .updateTable('volume_types')
      .set({ qos_specs_id: id })
      .where('id', '=', type.id)
      .where('qos_specs_id', 'is', null)
      .executeTakeFirst();
    if (Number(set.numUpdatedRows) === 0) return this.associateQosSpecs(ctx, id, typeId);
    await this.refreshVolumesOfType(type.id);
  }

  async disassociateQosSpecs(ctx: RequestContext, id: string, typeId: string | undefined): Promise<void> {
    this.authorize(ctx, 'volume_extension:qos_specs_manage:update');
    if (!typeId) throw errors.badRequest('Volume Type id must not be None.');
    await this.record(id);
    const type = await this.typeRow(typeId);
    const cleared = await this.db
      .updateTable('volume_types')
      .set({ qos_specs_id: null })
      .where('id', '=', type.id)
      .where('qos_specs_id', '=', id)
      .executeTakeFirst();
    if (Number(cleared.numUpdatedRows) > 0) await this.refreshVolumesOfType(type.id);
  }

  async disassociateAllQosSpecs(ctx: RequestContext, id: string): Promise<void> {
    this.authorize(ctx, 'volume_extension:qos_specs_manage:update');
    await this.record(id);
    const types = await this.typesOf(id);
    await this.db.updateTable('volume_types').set({ qos_specs_id: null }).where('qos_specs_id', '=', id).execute();
    for (const type of types) await this.refreshVolumesOfType(type.id);
  }

  private async record(id: string): Promise<QosSpecsRecord> {
    const row = await this.db.selectFrom('qos_specs').selectAll().where('id', '=', id).executeTakeFirst();
    if (!row) throw qosNotFound(id);
    const keys = await this.db.selectFrom('qos_specs_keys').select(['key', 'value']).where('qos_specs_id', '=', id).orderBy('key').execute();
    return {
      id: row.id,
      name: row.name,
      consumer: row.consumer,
      specs: Object.fromEntries(keys.map((k) => [k.key, k.value])),
      createdAt: parseTimestamp(row.created_at)!,
    };
  }

  private async typeRow(typeId: string) {
    const row = await this.db.selectFrom('volume_types').select(['id', 'qos_specs_id']).where('id', '=', typeId).executeTakeFirst();
    if (!row) throw errors.volumeTypeNotFound(typeId);
    return row;
  }

  private typesOf(id: string) {
    return this.db.selectFrom('volume_types').select(['id', 'name']).where('qos_specs_id', '=', id).orderBy('created_at').execute();
  }

  private async refreshVolumesOf(qosSpecsId: string): Promise<void> {
    for (const type of await this.typesOf(qosSpecsId)) await this.refreshVolumesOfType(type.id);
  }

  /**
   * Every exported volume of the type gets its target's limits again. A storage host that
   * cannot be reached keeps the old limits until the volume's next connection; the
   * change itself is committed and is not undone for it.
   */
  private async refreshVolumesOfType(typeId: string): Promise<void> {
    for (const volume of await exportedVolumesOf(this.db, typeId)) {
      await this.rpc.refreshLimits(volume.id).catch((err: unknown) => {
        this.logger.warn({ volumeId: volume.id, err: (err as Error).message }, 'QoS limits not refreshed on the storage host');
      });
    }
  }
}

function exportedVolumesOf(db: Kysely<Database>, typeId: string) {
  return db.selectFrom('volumes').select('id').where('volume_type_id', '=', typeId).where('provider_location', 'is not', null).execute();
}
