// Where a new volume lives, and where an existing one is served. In one process there is
// one storage host; API services in front of several pick among those reporting in.

import { sql, type Kysely } from 'kysely';
import { formatTimestamp, type Database } from '../db/schema.js';

export interface VolumeScheduler {
  /** The storage host (host@backend#pool) a new volume in `zone` goes to, or null when none can take it. */
  place(zone: string): Promise<string | null>;
}

/** Cinder's pool-qualified host for a service's host@backend: the backend is its only pool. */
export function poolHostOf(serviceHost: string): string {
  return `${serviceHost}#${serviceHost.slice(serviceHost.indexOf('@') + 1)}`;
}

/** The storage host in this process: every volume goes there. */
export function thisHost(volumeHost: string): VolumeScheduler {
  return { place: async () => volumeHost };
}

/**
 * Cinder's filter scheduler, as far as there is anything to filter here: the storage
 * hosts whose heartbeat is recent, that are enabled and in the zone; of those, the one
 * with the fewest gigabytes allocated (Cinder's default capacity weigher, without free
 * space reports). None up: null, and the create ends in error, as Cinder's "No valid
 * backend was found" does.
 */
export function liveHostScheduler(db: Kysely<Database>, downTimeMs: number): VolumeScheduler {
  return {
    async place(zone) {
      const services = await db
        .selectFrom('services')
        .select('host')
        .where('binary', '=', 'cinder-volume')
        .where('disabled', '=', 0)
        .where('availability_zone', '=', zone)
        .where('updated_at', '>=', formatTimestamp(Date.now() - downTimeMs))
        .orderBy('host')
        .execute();
      if (services.length === 0) return null;
      const hosts = services.map((s) => poolHostOf(s.host));
      const allocated = await db
        .selectFrom('volumes')
        .select(['host', sql<number>`sum(size)`.as('gib')])
        .where('host', 'in', hosts)
        .groupBy('host')
        .execute();
      const gib = new Map(allocated.map((row) => [row.host, Number(row.gib)]));
      return hosts.reduce((best, host) => ((gib.get(host) ?? 0) < (gib.get(best) ?? 0) ? host : best));
    },
  };
}

/** Volumes whose host is remembered; a volume never moves, so a remembered host stays true. */
const REMEMBERED_HOSTS = 10_000;

/** The storage host serving each volume, as recorded when it was created. */
export function volumeHostLookup(db: Kysely<Database>): (volumeId: string) => Promise<string | null> {
  const known = new Map<string, string>();
  return async (volumeId) => {
    const remembered = known.get(volumeId);
    if (remembered) return remembered;
    const row = await db.selectFrom('volumes').select('host').where('id', '=', volumeId).executeTakeFirst();
    if (!row?.host) return null;
    if (known.size >= REMEMBERED_HOSTS) known.delete(known.keys().next().value!);
    known.set(volumeId, row.host);
    return row.host;
  };
}
