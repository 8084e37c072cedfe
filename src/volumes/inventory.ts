// What is there, over all projects: the storage hosts reporting in and how many volumes and
// attachments are in each status. The API (os-services, metrics) and `cinderblock status` read it.

import { sql, type Kysely } from 'kysely';
import { parseTimestamp, type Database } from '../db/schema.js';
import type { ServiceRecord } from './types.js';

export interface StatusCounts {
  volumes: Record<string, number>;
  attachments: Record<string, number>;
}

/** Services by binary and host; up while the last heartbeat is no older than `downTimeMs`. */
export async function listServices(
  db: Kysely<Database>,
  filters: { host?: string; binary?: string },
  downTimeMs: number,
): Promise<ServiceRecord[]> {
  let query = db.selectFrom('services').selectAll().orderBy('binary').orderBy('host');
  if (filters.host !== undefined) query = query.where('host', '=', filters.host);
  if (filters.binary !== undefined) query = query.where('binary', '=', filters.binary);
  const now = Date.now();
  return (await query.execute()).map((row) => {
    const updatedAt = parseTimestamp(row.updated_at)!;
    return {
      binary: row.binary,
      host: row.host,
      zone: row.availability_zone,
      disabled: row.disabled === 1,
      disabledReason: row.disabled_reason,
      up: Math.abs(now - updatedAt.getTime()) <= downTimeMs,
      updatedAt,
    };
  });
}

/** Volumes by status, and live attachments by attach_status. */
export async function countStatuses(db: Kysely<Database>): Promise<StatusCounts> {
  const count = sql<number>`count(*)`;
  const [volumes, attachments] = await Promise.all([
    db.selectFrom('volumes').select(['status', count.as('n')]).groupBy('status').execute(),
    db.selectFrom('volume_attachment').select(['attach_status', count.as('n')]).where('deleted', '=', 0).groupBy('attach_status').execute(),
  ]);
  return {
    volumes: Object.fromEntries(volumes.map((row) => [row.status, Number(row.n)])),
    attachments: Object.fromEntries(attachments.map((row) => [row.attach_status, Number(row.n)])),
  };
}
