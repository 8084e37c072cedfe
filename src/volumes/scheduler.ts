// Where a new volume lives, and where an existing one is served. In one process there is
// one storage host; API services in front of several pick among those reporting in.

import { sql, type Kysely } from 'kysely';
import { formatTimestamp, type Database } from '../db/schema.js';
import { backendPasses, capacityWeight, type CapacityVerdict, type PoolCapacity } from './capacity.js';

export interface PlacementRequest {
  zone: string;
  /** GiB. */
  size: number;
  /** False when the volume type asks for thick provisioning. */
  thin: boolean;
}

/** One storage host as the scheduler judged it: what it reported, and why it could or could not take the volume. */
export interface HostJudgement extends CapacityVerdict {
  host: string;
  capacity: PoolCapacity | null;
}

export interface Placement {
  /** host@backend#pool, or null when no host can take the volume. */
  host: string | null;
  /** Every host considered, for the log of a volume that found none. */
  judged: HostJudgement[];
}

export interface VolumeScheduler {
  /** Where a new volume goes: the storage host with room for it and the most room left. */
  place(req: PlacementRequest): Promise<Placement>;
}

/** Cinder's pool-qualified host for a service's host@backend: the backend is its only pool. */
export function poolHostOf(serviceHost: string): string {
  return `${serviceHost}#${serviceHost.slice(serviceHost.indexOf('@') + 1)}`;
}

type ServiceRow = { host: string; capabilities: string | null };

function parseCapacity(text: string | null): (PoolCapacity & { timestamp?: string }) | null {
  if (text === null) return null;
  try {
    return JSON.parse(text) as PoolCapacity & { timestamp?: string };
  } catch {
    return null;
  }
}

/**
 * Cinder's consume_from_volume, done with the database: the volumes placed on a host
 * since its last report count as provisioned and as no longer free, so creates between
 * two heartbeats do not all see the same room.
 */
async function placedSinceReport(db: Kysely<Database>, reports: Array<{ host: string; timestamp: string }>): Promise<Map<string, number>> {
  if (reports.length === 0) return new Map();
  const rows = await db
    .selectFrom('volumes')
    .select(['host', sql<number | string>`sum(size)`.as('gib')])
    .where((eb) => eb.or(reports.map((r) => eb.and([eb('host', '=', r.host), eb('created_at', '>', r.timestamp)]))))
    .groupBy('host')
    .execute();
  return new Map(rows.map((row) => [row.host!, Number(row.gib)]));
}

/** The capacity filter over every candidate, then the capacity weigher over those that pass; ties go to the first by name. */
async function choose(db: Kysely<Database>, services: ServiceRow[], req: PlacementRequest): Promise<Placement> {
  const candidates = services.map((s) => ({ host: poolHostOf(s.host), reported: parseCapacity(s.capabilities) }));
  const reports = candidates.flatMap((c) => (c.reported?.timestamp ? [{ host: c.host, timestamp: c.reported.timestamp }] : []));
  const placed = await placedSinceReport(db, reports);
  let best: { host: string; weight: number } | null = null;
  const judged: HostJudgement[] = [];
  for (const { host, reported } of candidates) {
    const gib = placed.get(host) ?? 0;
    const capacity: PoolCapacity | null = reported && {
      ...reported,
      provisioned_capacity_gb: reported.provisioned_capacity_gb + gib,
      free_capacity_gb: typeof reported.free_capacity_gb === 'number' ? reported.free_capacity_gb - gib : reported.free_capacity_gb,
    };
    const verdict = capacity ? backendPasses(capacity, req.size, req.thin) : { passes: false, reason: 'no capacity reported' };
    judged.push({ host, capacity, ...verdict });
    if (!verdict.passes || !capacity) continue;
    const weight = capacityWeight(capacity, req.thin);
    if (!best || weight > best.weight) best = { host, weight };
  }
  return { host: best?.host ?? null, judged };
}

/** The storage host in this process: every volume it has room for goes there. */
export function thisHost(db: Kysely<Database>, serviceHost: string): VolumeScheduler {
  return {
    async place(req) {
      const services = await db.selectFrom('services').select(['host', 'capabilities']).where('binary', '=', 'cinder-volume').where('host', '=', serviceHost).execute();
      return choose(db, services, req);
    },
  };
}

/**
 * Cinder's filter scheduler, with the filters that mean something here: the storage
 * hosts whose heartbeat is recent, that are enabled and in the zone, and that have room
 * for the volume (CapacityFilter); of those, the one with the most free capacity
 * (CapacityWeigher). None: a null host, and the create ends in error, as Cinder's "No
 * valid backend was found" does.
 */
export function liveHostScheduler(db: Kysely<Database>, downTimeMs: number): VolumeScheduler {
  return {
    async place(req) {
      const services = await db
        .selectFrom('services')
        .select(['host', 'capabilities'])
        .where('binary', '=', 'cinder-volume')
        .where('disabled', '=', 0)
        .where('availability_zone', '=', req.zone)
        .where('updated_at', '>=', formatTimestamp(Date.now() - downTimeMs))
        .orderBy('host')
        .execute();
      return choose(db, services, req);
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
