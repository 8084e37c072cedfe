// What each project holds against its quotas, kept in quota_usages. A change of usage is
// one conditional write per resource in the same transaction as the rows it counts (a
// volume or snapshot made or removed, an extend begun or ended), so no crash can leave
// the two apart and no two callers can both take the last of a quota: the write adds
// only while the sum stays within the limit, and a refusal rolls the transaction back.

import { sql, type Kysely } from 'kysely';
import type { Database } from '../db/schema.js';
import { prepared } from '../db/prepared.js';
import { CinderError, errors } from '../errors.js';
import { DEFAULT_QUOTA_CLASS, type BaseResource, type QuotaDefaults, type UsageDelta } from './quota-resources.js';

/** A project's effective limits: its own, else the default class's, else the configured defaults (-1 for per-type resources). */
export class Limits {
  constructor(
    private readonly own: ReadonlyMap<string, number>,
    private readonly byClass: ReadonlyMap<string, number>,
    private readonly defaults: QuotaDefaults,
  ) {}

  of(resource: string): number {
    return this.own.get(resource) ?? this.byClass.get(resource) ?? this.defaults[resource as BaseResource] ?? -1;
  }
}

export async function loadLimits(db: Kysely<Database>, projectId: string, defaults: QuotaDefaults): Promise<Limits> {
  const [own, byClass] = await Promise.all([
    db.selectFrom('quotas').select(['resource', 'hard_limit']).where('project_id', '=', projectId).execute(),
    classLimits(db, DEFAULT_QUOTA_CLASS),
  ]);
  return new Limits(new Map(own.map((row) => [row.resource, row.hard_limit])), byClass, defaults);
}

export async function classLimits(db: Kysely<Database>, className: string): Promise<Map<string, number>> {
  const rows = await db.selectFrom('quota_classes').select(['resource', 'hard_limit']).where('class_name', '=', className).execute();
  return new Map(rows.map((row) => [row.resource, row.hard_limit]));
}

export async function usageOf(db: Kysely<Database>, projectId: string): Promise<Map<string, number>> {
  const rows = await db.selectFrom('quota_usages').select(['resource', 'in_use']).where('project_id', '=', projectId).execute();
  return new Map(rows.map((row) => [row.resource, Number(row.in_use)]));
}

/** Adds `amount` to a project's usage of a resource unless the sum would pass `limit` (-1: no limit); no row changed means refused. */
const addWithinLimit = prepared(4, (db: Kysely<Database>, projectId: string, resource: string, amount: number, limit: number) => ({
  compile: () =>
    sql`insert into quota_usages (project_id, resource, in_use) values (${projectId}, ${resource}, ${amount})
        on conflict (project_id, resource) do update set in_use = quota_usages.in_use + excluded.in_use
        where ${limit} < 0 or quota_usages.in_use + excluded.in_use <= ${limit}`.compile(db),
}));

const giveBack = prepared(3, (db: Kysely<Database>, projectId: string, resource: string, amount: number) =>
  db
    .updateTable('quota_usages')
    .set({ in_use: sql`in_use - ${amount}` })
    .where('project_id', '=', projectId)
    .where('resource', '=', resource),
);

/**
 * Takes `delta` from the project's quotas, inside the caller's transaction, or throws
 * Cinder's 413 for the first resource (in name order, as Cinder reports) it would pass.
 * Resources are written in name order, so concurrent transactions lock usage rows in
 * one order and cannot deadlock on them.
 */
export async function takeUsage(trx: Kysely<Database>, projectId: string, delta: UsageDelta, limits: Limits): Promise<void> {
  for (const resource of Object.keys(delta).sort()) {
    const amount = delta[resource]!;
    if (amount === 0) continue;
    const limit = limits.of(resource);
    const fits = limit < 0 || amount <= limit;
    const written = fits ? Number((await addWithinLimit(trx, projectId, resource, amount, limit)).numAffectedRows ?? 0n) : 0;
    if (written > 0) continue;
    const row = await trx.selectFrom('quota_usages').select('in_use').where('project_id', '=', projectId).where('resource', '=', resource).executeTakeFirst();
    throw overQuota(resource, amount, limit, Number(row?.in_use ?? 0));
  }
}

/** Gives back what `delta` took, inside the transaction that removes what it counted. */
export async function returnUsage(trx: Kysely<Database>, projectId: string, delta: UsageDelta): Promise<void> {
  for (const resource of Object.keys(delta).sort()) {
    const amount = delta[resource]!;
    if (amount !== 0) await giveBack(trx, projectId, resource, amount);
  }
}

/** Cinder's QuotaError for the resource that would pass its limit. */
function overQuota(resource: string, requested: number, quota: number, consumed: number): CinderError {
  if (resource === 'backups') return errors.overLimit(`Maximum number of backups allowed (${quota}) exceeded`);
  if (resource === 'backup_gigabytes') {
    return errors.overLimit(
      `Requested backup exceeds allowed Backup gigabytes quota. Requested ${requested}G, quota is ${quota}G and ${consumed}G has been consumed.`,
    );
  }
  if (resource.startsWith('gigabytes')) {
    return errors.overLimit(
      `Requested volume or snapshot exceeds allowed ${resource} quota. Requested ${requested}G, quota is ${quota}G and ${consumed}G has been consumed.`,
    );
  }
  if (resource.startsWith('snapshots')) return errors.overLimit(`Maximum number of snapshots allowed (${quota}) exceeded`);
  if (resource === 'groups') return errors.overLimit(`Maximum number of groups allowed (${quota}) exceeded`);
  return errors.overLimit(`Maximum number of volumes allowed (${quota}) exceeded for quota '${resource}'.`);
}

/** Cinder's per_volume_gigabytes check, made before anything is taken. */
export function checkVolumeSize(size: number, limits: Limits): void {
  const limit = limits.of('per_volume_gigabytes');
  if (limit >= 0 && size > limit) throw errors.overLimit(`Requested volume size ${size}G is larger than maximum allowed limit ${limit}G.`);
}

/** A volume type's name, which names its per-type resources. */
export async function typeNameOf(db: Kysely<Database>, typeId: string): Promise<string> {
  const row = await db.selectFrom('volume_types').select('name').where('id', '=', typeId).executeTakeFirst();
  // A volume's type cannot be deleted while the volume exists; the id stands in if it was.
  return row?.name ?? typeId;
}
