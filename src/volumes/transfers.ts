// Volume transfers: a project offers one of its volumes (and, unless told not to, the
// volume's snapshots) to whichever project presents the offer's key. The key is shown once,
// on create; only a salted hash of it is kept. Accepting moves the volume, its snapshots
// and what they count against quotas from one project to the other in one commit.

import { createHmac, randomBytes, randomUUID, timingSafeEqual } from 'node:crypto';
import type { Kysely } from 'kysely';
import type { Database, TransferRow } from '../db/schema.js';
import { nowTimestamp, parseTimestamp } from '../db/schema.js';
import { inTransaction } from '../db/prepared.js';
import { errors } from '../errors.js';
import { targetOf, WorkflowPart } from './core.js';
import { paginate } from './listing.js';
import { snapshotUsage, volumeUsage, type UsageDelta } from './quota-resources.js';
import { checkVolumeSize, loadLimits, returnUsage, takeUsage, typeNameOf, type Limits } from './quota-usage.js';
import type { RequestContext, SortKey } from './types.js';

/** Cinder's volume_transfer_salt_length and volume_transfer_key_length. */
const SALT_LENGTH = 8;
const KEY_LENGTH = 16;

export interface TransferRecord {
  id: string;
  volumeId: string;
  name: string | null;
  noSnapshots: boolean;
  sourceProjectId: string;
  /** Always null and false here: an accepted transfer's row is gone, as in Cinder's lists. */
  destinationProjectId: string | null;
  accepted: boolean;
  createdAt: Date;
}

export interface CreatedTransfer extends TransferRecord {
  /** The only time the key is ever seen. */
  authKey: string;
}

export interface TransferListQuery {
  allTenants: boolean;
  /** Exact matches, by column name; a key that names no column matches nothing, as in Cinder. */
  filters: Record<string, string>;
  sort: SortKey[];
  limit?: number;
  marker?: string;
  offset?: number;
}

/** The columns a list may filter and sort on (never the salt or the hash). */
const TRANSFER_COLUMNS = ['id', 'volume_id', 'display_name', 'no_snapshots', 'source_project_id', 'created_at'] as const;
type TransferColumn = (typeof TRANSFER_COLUMNS)[number];
const isTransferColumn = (key: string): key is TransferColumn => (TRANSFER_COLUMNS as readonly string[]).includes(key);

/** Hex characters only, which a recipient can type (Cinder's _get_random_string). */
function randomHex(length: number): string {
  return randomBytes(Math.ceil(length / 2)).toString('hex').slice(0, length);
}

function cryptHash(salt: string, authKey: string): string {
  return createHmac('sha1', salt).update(authKey).digest('hex');
}

function keyMatches(row: TransferRow, authKey: string): boolean {
  const given = Buffer.from(cryptHash(row.salt, authKey));
  const kept = Buffer.from(row.crypt_hash);
  return given.length === kept.length && timingSafeEqual(given, kept);
}

function transferRecord(row: TransferRow): TransferRecord {
  return {
    id: row.id,
    volumeId: row.volume_id,
    name: row.display_name,
    noSnapshots: row.no_snapshots === 1,
    sourceProjectId: row.source_project_id,
    destinationProjectId: null,
    accepted: false,
    createdAt: parseTimestamp(row.created_at)!,
  };
}

const transferNotFound = (id: string) => errors.notFound(`Transfer ${id} could not be found.`);

/** Moves `delta` of usage from one project to another inside `trx`; the receiving side may refuse with Cinder's 413. */
async function moveUsage(trx: Kysely<Database>, from: string, to: string, delta: UsageDelta, limits: Limits): Promise<void> {
  await takeUsage(trx, to, delta, limits);
  await returnUsage(trx, from, delta);
}

export class Transfers extends WorkflowPart {
  async createTransfer(ctx: RequestContext, req: { volumeId: string; name: string | null; noSnapshots: boolean }): Promise<CreatedTransfer> {
    const volume = await this.load.volumeRow(ctx, req.volumeId);
    this.authorize(ctx, 'volume:create_transfer', targetOf(volume));
    if (volume.status !== 'available') throw errors.invalidVolume('status must be available');
    if (!req.noSnapshots) {
      const snapshots = await this.db.selectFrom('snapshots').select(['id', 'status']).where('volume_id', '=', volume.id).execute();
      const busy = snapshots.find((s) => s.status !== 'available');
      if (busy) throw errors.invalidSnapshot(`snapshot: ${busy.id} status must be available`);
    }
    const salt = randomHex(SALT_LENGTH);
    const authKey = randomHex(KEY_LENGTH);
    const row: TransferRow = {
      id: randomUUID(),
      volume_id: volume.id,
      display_name: req.name,
      salt,
      crypt_hash: cryptHash(salt, authKey),
      no_snapshots: req.noSnapshots ? 1 : 0,
      source_project_id: volume.project_id,
      created_at: nowTimestamp(),
    };
    await inTransaction(this.db, async (trx) => {
      const moved = await trx
        .updateTable('volumes')
        .set({ status: 'awaiting-transfer', updated_at: nowTimestamp() })
        .where('id', '=', volume.id)
        .where('status', '=', 'available')
        .executeTakeFirst();
      if (Number(moved.numUpdatedRows) === 0) {
        throw errors.invalidVolume(`Transfer ${row.id}: Volume id ${volume.id} expected in available state.`);
      }
      await trx.insertInto('transfers').values(row).execute();
    });
    return { ...transferRecord(row), authKey };
  }

  async getTransfer(ctx: RequestContext, id: string): Promise<TransferRecord> {
    this.authorize(ctx, 'volume:get_transfer');
    return transferRecord(await this.visibleTransfer(ctx, id));
  }

  async listTransfers(ctx: RequestContext, query: TransferListQuery): Promise<TransferRecord[]> {
    this.authorize(ctx, 'volume:get_all_transfers');
    const keys = Object.keys(query.filters);
    if (!keys.every(isTransferColumn)) return [];
    let q = this.db.selectFrom('transfers').innerJoin('volumes', 'volumes.id', 'transfers.volume_id').selectAll('transfers');
    if (!(ctx.isAdmin && query.allTenants)) q = q.where('volumes.project_id', '=', ctx.projectId);
    for (const key of keys as TransferColumn[]) {
      const value = query.filters[key]!;
      q = q.where(`transfers.${key}`, '=', key === 'no_snapshots' ? Number(['1', 'true', 'yes', 'on'].includes(value.toLowerCase())) : value);
    }
    for (const { key, dir } of query.sort) {
      const column = key === 'name' ? 'display_name' : key;
      if (!isTransferColumn(column)) throw errors.invalidInput(`Invalid sort key ${key}`);
      q = q.orderBy(`transfers.${column}`, dir);
    }
    const rows = await q.orderBy('transfers.id', query.sort[0]?.dir ?? 'asc').execute();
    return paginate(rows, query).map(transferRecord);
  }

  async deleteTransfer(ctx: RequestContext, id: string): Promise<void> {
    const transfer = await this.visibleTransfer(ctx, id);
    const volume = await this.load.volumeRow({ ...ctx, isAdmin: true }, transfer.volume_id);
    this.authorize(ctx, 'volume:delete_transfer', targetOf(volume));
    await inTransaction(this.db, async (trx) => {
      // A volume no longer awaiting the transfer keeps its status; the offer still goes.
      await trx
        .updateTable('volumes')
        .set({ status: 'available', updated_at: nowTimestamp() })
        .where('id', '=', transfer.volume_id)
        .where('status', '=', 'awaiting-transfer')
        .execute();
      await trx.deleteFrom('transfers').where('id', '=', id).execute();
    });
  }

  /** The caller's project takes the volume; the key must be the one create returned. */
  async acceptTransfer(ctx: RequestContext, id: string, authKey: string): Promise<TransferRecord> {
    this.authorize(ctx, 'volume:accept_transfer');
    const transfer = await this.db.selectFrom('transfers').selectAll().where('id', '=', id).executeTakeFirst();
    if (!transfer) throw transferNotFound(id);
    if (!keyMatches(transfer, authKey)) throw errors.badRequest(`Invalid auth key: Attempt to transfer ${id} with invalid auth key.`);
    const volume = await this.load.volumeRow({ ...ctx, isAdmin: true }, transfer.volume_id);
    const limits = await loadLimits(this.db, ctx.projectId, this.options.quotaDefaults);
    checkVolumeSize(volume.size, limits);
    if (volume.status === 'maintenance') throw errors.invalidVolume('The volume cannot accept transfer in maintenance mode.');
    const typeName = await typeNameOf(this.db, volume.volume_type_id);
    const donor = volume.project_id;
    await inTransaction(this.db, async (trx) => {
      await moveUsage(trx, donor, ctx.projectId, volumeUsage(volume.size, typeName), limits);
      const snapshots = transfer.no_snapshots === 1
        ? []
        : await trx.selectFrom('snapshots').select(['id', 'volume_size']).where('volume_id', '=', volume.id).execute();
      if (snapshots.length > 0) {
        const delta: UsageDelta = {};
        for (const snapshot of snapshots) {
          for (const [resource, amount] of Object.entries(snapshotUsage(snapshot.volume_size, typeName))) delta[resource] = (delta[resource] ?? 0) + amount;
        }
        await moveUsage(trx, donor, ctx.projectId, delta, limits);
      }
      const moved = await trx
        .updateTable('volumes')
        .set({ status: 'available', user_id: ctx.userId, project_id: ctx.projectId, updated_at: nowTimestamp() })
        .where('id', '=', volume.id)
        .where('status', '=', 'awaiting-transfer')
        .executeTakeFirst();
      if (Number(moved.numUpdatedRows) === 0) {
        throw errors.invalidVolume(`Transfer ${id}: Volume id ${volume.id} expected in awaiting-transfer state.`);
      }
      for (const snapshot of snapshots) {
        const taken = await trx
          .updateTable('snapshots')
          .set({ user_id: ctx.userId, project_id: ctx.projectId, updated_at: nowTimestamp() })
          .where('id', '=', snapshot.id)
          .where('status', '=', 'available')
          .executeTakeFirst();
        if (Number(taken.numUpdatedRows) === 0) {
          throw errors.invalidSnapshot(`Transfer ${id}: Snapshot ${snapshot.id} is not in the expected available state.`);
        }
      }
      const gone = await trx.deleteFrom('transfers').where('id', '=', id).executeTakeFirst();
      // Two accepts of one offer: the one whose delete finds no row lost the race.
      if (Number(gone.numDeletedRows) === 0) throw transferNotFound(id);
    });
    this.logger.info({ transferId: id, volumeId: volume.id }, 'volume transferred');
    return transferRecord(transfer);
  }

  /** A transfer is visible to the project whose volume it offers, and to administrators. */
  private async visibleTransfer(ctx: RequestContext, id: string): Promise<TransferRow> {
    let q = this.db.selectFrom('transfers').innerJoin('volumes', 'volumes.id', 'transfers.volume_id').selectAll('transfers').where('transfers.id', '=', id);
    if (!ctx.isAdmin) q = q.where('volumes.project_id', '=', ctx.projectId);
    const row = await q.executeTakeFirst();
    if (!row) throw transferNotFound(id);
    return row;
  }
}
