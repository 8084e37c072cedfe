// What is there, over all projects: the storage hosts reporting in and how many volumes and
// attachments are in each status. The API (os-services, metrics) and `cinderblock status` read it.

import { sql, type Kysely, type SqlBool } from 'kysely';
import { parseTimestamp, type Database } from '../db/schema.js';
import type { ServiceRecord } from './types.js';

export interface StatusCounts {
  volumes: Record<string, number>;
  attachments: Record<string, number>;
}

/**
 * Cinder's _filter_host on `column`: host@backend#pool names only that pool, host@backend
 * the backend and its pools, a bare host everything on it (unless `level` says how far to
 * look). LIKE would read _ and % in a name as wildcards, so the prefix is compared instead.
 */
export function hostFilter(column: string, value: string, level?: 'pool' | 'backend' | 'host') {
  const matching = level ?? (value.includes('#') ? 'pool' : value.includes('@') ? 'backend' : 'host');
  const separators = { pool: [], backend: ['#'], host: ['#', '@'] }[matching];
  const length = [...value].length + 1;
  const conditions = [
    sql`${sql.ref(column)} = ${value}`,
    ...separators.map((separator) => sql`substr(${sql.ref(column)}, 1, ${sql.lit(length)}) = ${value + separator}`),
  ];
  return sql<SqlBool>`(${sql.join(conditions, sql` or `)})`;
}

/** A backend that does not say otherwise is up. */
function backendStateOf(capabilities: string): string {
  try {
    const reported = (JSON.parse(capabilities) as { backend_state?: unknown }).backend_state;
    return typeof reported === 'string' ? reported : 'up';
  } catch {
    return 'up';
  }
}

/** Services by binary and host; up while the last heartbeat is no older than `downTimeMs`. */
export async function listServices(
  db: Kysely<Database>,
  filters: { host?: string; binary?: string },
  downTimeMs: number,
): Promise<ServiceRecord[]> {
  let query = db.selectFrom('services').selectAll().orderBy('binary').orderBy('host');
  if (filters.host !== undefined) query = query.where(hostFilter('host', filters.host));
  if (filters.binary !== undefined) query = query.where('binary', '=', filters.binary);
  const now = Date.now();
  return (await query.execute()).map((row) => {
    const updatedAt = parseTimestamp(row.updated_at)!;
    const up = Math.abs(now - updatedAt.getTime()) <= downTimeMs;
    const scheduled = up && row.disabled === 0 && row.frozen === 0 && row.capabilities !== null;
    return {
      binary: row.binary,
      host: row.host,
      zone: row.availability_zone,
      disabled: row.disabled === 1,
      disabledReason: row.disabled_reason,
      up,
      updatedAt,
      frozen: row.frozen === 1,
      backendState: scheduled ? backendStateOf(row.capabilities!) : null,
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
