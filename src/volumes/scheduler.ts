// Where a new volume lives, and where an existing one is served. In one process there is
// one storage host; API services in front of several pick among those reporting in.

import { sql, type Kysely } from 'kysely';
import { formatTimestamp, type Database } from '../db/schema.js';
import { backendPasses, capacityWeight, type CapacityVerdict, type PoolCapacity } from './capacity.js';
import { capabilitiesPass } from './capabilities-filter.js';

export interface PlacementRequest {
  zone: string;
  /** GiB. */
  size: number;
  /** False when the volume type asks for thick provisioning. */
  thin: boolean;
  /** The volume type's extra specs, which the backend's reported capabilities must satisfy. */
  extraSpecs: Record<string, string>;
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
/** A heartbeat's report: the capacity the filter and weigher read, and whatever else the backend says of itself. */
type Reported = PoolCapacity & { allocated_capacity_gb?: number } & Record<string, unknown>;

function parseCapacity(text: string | null): Reported | null {
  if (text === null) return null;
  try {
    return JSON.parse(text) as Reported;
  } catch {
    return null;
  }
}

/** The gigabytes of the volumes on each host now, as the database has them. */
async function allocatedNow(db: Kysely<Database>, hosts: string[]): Promise<Map<string, number>> {
  if (hosts.length === 0) return new Map();
  const rows = await db
    .selectFrom('volumes')
    .select(['host', sql<number | string>`sum(size)`.as('gib')])
    .where('host', 'in', hosts)
    .groupBy('host')
    .execute();
  return new Map(rows.map((row) => [row.host!, Number(row.gib)]));
}

/**
 * Cinder's consume_from_volume, done with the database: the gigabytes placed on a host
 * since its last report (allocated now, less what it reported allocated) count as
 * provisioned and as no longer free, so creates between two heartbeats do not all see
 * the same room. Nor is less provisioned than the database holds: a volume placed just
 * before a report may not have had its file yet when the driver counted.
 */
function withPlacedSince(reported: Reported, allocated: number): PoolCapacity {
  const since = Math.max(0, allocated - (reported.allocated_capacity_gb ?? allocated));
  const free = reported.free_capacity_gb;
  return {
    ...reported,
    provisioned_capacity_gb: Math.max(reported.provisioned_capacity_gb + since, allocated),
    free_capacity_gb: typeof free === 'number' ? free - since : free,
  };
}

/** Cinder's default filters in their order: the capacity filter, then the capabilities filter. */
function judge(reported: Reported, capacity: PoolCapacity, req: PlacementRequest): CapacityVerdict {
  const room = backendPasses(capacity, req.size, req.thin);
  return room.passes ? capabilitiesPass(reported, req.extraSpecs) : room;
}

/** The filters over every candidate, then the capacity weigher over those that pass; ties go to the first by name. */
async function choose(db: Kysely<Database>, services: ServiceRow[], req: PlacementRequest): Promise<Placement> {
  const candidates = services.map((s) => ({ host: poolHostOf(s.host), reported: parseCapacity(s.capabilities) }));
  const allocated = await allocatedNow(db, candidates.map((c) => c.host));
  let best: { host: string; weight: number } | null = null;
  const judged: HostJudgement[] = [];
  for (const { host, reported } of candidates) {
    const capacity = reported && withPlacedSince(reported, allocated.get(host) ?? 0);
    const verdict = reported && capacity ? judge(reported, capacity, req) : { passes: false, reason: 'no capacity reported' };
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
 * hosts whose heartbeat is recent, that are enabled, not frozen and in the zone, that have
 * room for the volume (CapacityFilter) and report what its type asks for
 * (CapabilitiesFilter); of those, the one with the most free capacity (CapacityWeigher).
 * None: a null host, and the create ends in error, as Cinder's "No valid backend was
 * found" does.
 */
export function liveHostScheduler(db: Kysely<Database>, downTimeMs: number): VolumeScheduler {
  return {
    async place(req) {
      const services = await db
        .selectFrom('services')
        .select(['host', 'capabilities'])
        .where('binary', '=', 'cinder-volume')
        .where('disabled', '=', 0)
        .where('frozen', '=', 0)
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
