// os-hosts and the capabilities API for administrators: which services run where, what each
// storage host holds for whom, and what a backend says it can do. Read from the services
// table the heartbeats write and from the volumes placed on each host.

import { sql } from 'kysely';
import { parseTimestamp } from '../db/schema.js';
import { errors } from '../errors.js';
import { WorkflowPart } from './core.js';
import { hostFilter } from './inventory.js';
import type { RequestContext } from './types.js';

/** One enabled service as os-hosts lists it. */
export interface HostRecord {
  host: string;
  /** The service's topic, which for Cinder's services is its binary. */
  service: string;
  zone: string;
  /** Its heartbeat is recent (Cinder's "available"). */
  available: boolean;
  disabled: boolean;
  updatedAt: Date | null;
}

/** What one project (or, as `(total)`, everyone) holds on a storage host. */
export interface HostUsage {
  project: string;
  volumeCount: number;
  volumeGigabytes: number;
  snapshotCount: number;
  snapshotGigabytes: number;
}

/** What a backend says of itself: its last report, with the properties every Cinder driver declares. */
export interface BackendCapabilities {
  /** host@backend, the service whose report it is. */
  serviceHost: string;
  capabilities: Record<string, unknown>;
}

const property = (title: string, description: string) => ({ title, description, type: 'boolean' });

/** The standard capabilities of Cinder's base driver, which volume types' extra specs may name. */
const STANDARD_PROPERTIES = {
  thin_provisioning: property('Thin Provisioning', 'Sets thin provisioning.'),
  compression: property('Compression', 'Enables compression.'),
  qos: property('QoS', 'Enables QoS.'),
  replication_enabled: property('Replication', 'Enables replication.'),
};

const count = sql<number | string>`count(*)`;

export class HostsAdmin extends WorkflowPart {
  /** Cinder's os-hosts index: the enabled services, by the zone when one is asked for. */
  async listHosts(ctx: RequestContext, zone: string | undefined): Promise<HostRecord[]> {
    this.authorize(ctx, 'volume_extension:hosts');
    let query = this.db.selectFrom('services').selectAll().where('disabled', '=', 0).orderBy('binary').orderBy('host');
    if (zone) query = query.where('availability_zone', '=', zone);
    const now = Date.now();
    return (await query.execute()).map((row) => {
      const updatedAt = parseTimestamp(row.updated_at) ?? parseTimestamp(row.created_at);
      return {
        host: row.host,
        service: row.binary,
        zone: row.availability_zone,
        available: updatedAt !== null && Math.abs(now - updatedAt.getTime()) <= this.options.serviceDownTimeMs,
        disabled: row.disabled === 1,
        updatedAt: parseTimestamp(row.updated_at),
      };
    });
  }

  /**
   * Cinder's os-hosts show: the enabled cinder-volume the name matches, then the volumes
   * and snapshots on it, in total and for each project that has any there.
   */
  async showHost(ctx: RequestContext, host: string): Promise<HostUsage[]> {
    this.authorize(ctx, 'volume_extension:hosts');
    const service = await this.db
      .selectFrom('services')
      .select('host')
      .where(hostFilter('host', host))
      .where('binary', '=', 'cinder-volume')
      .where('disabled', '=', 0)
      .orderBy('host')
      .executeTakeFirst();
    if (!service) throw errors.notFound(`Service cinder-volume could not be found on host ${host}.`);
    // The service's own volumes: on it, or on one of its pools.
    const onHost = hostFilter('volumes.host', service.host, 'backend');
    const [volumes, snapshots] = await Promise.all([
      this.db
        .selectFrom('volumes')
        .select(['project_id', count.as('n'), sql<number | string>`sum(size)`.as('gib')])
        .where(onHost)
        .groupBy('project_id')
        .orderBy('project_id')
        .execute(),
      this.db
        .selectFrom('snapshots')
        .innerJoin('volumes', 'volumes.id', 'snapshots.volume_id')
        .select(['snapshots.project_id', count.as('n'), sql<number | string>`sum(snapshots.volume_size)`.as('gib')])
        .where(onHost)
        .groupBy('snapshots.project_id')
        .execute(),
    ]);
    const snapshotsOf = new Map(snapshots.map((row) => [row.project_id, row]));
    const perProject = volumes.map((row) => ({
      project: row.project_id,
      volumeCount: Number(row.n),
      volumeGigabytes: Number(row.gib ?? 0),
      snapshotCount: Number(snapshotsOf.get(row.project_id)?.n ?? 0),
      snapshotGigabytes: Number(snapshotsOf.get(row.project_id)?.gib ?? 0),
    }));
    const sum = (key: keyof Omit<HostUsage, 'project'>) => perProject.reduce((total, usage) => total + usage[key], 0);
    const total = {
      project: '(total)',
      volumeCount: sum('volumeCount'),
      volumeGigabytes: sum('volumeGigabytes'),
      snapshotCount: sum('snapshotCount'),
      snapshotGigabytes: sum('snapshotGigabytes'),
    };
    return [total, ...perProject];
  }

  /**
   * Cinder's capabilities show: the cinder-volume service the name matches (a host, or a
   * host@backend) and what its backend last reported. A backend that could not say, or whose
   * service is down, has not answered.
   */
  async getCapabilities(ctx: RequestContext, host: string): Promise<BackendCapabilities> {
    this.authorize(ctx, 'volume_extension:capabilities');
    const service = await this.db
      .selectFrom('services')
      .select(['host', 'capabilities', 'updated_at'])
      .where(hostFilter('host', host))
      .where('binary', '=', 'cinder-volume')
      .orderBy('host')
      .executeTakeFirst();
    if (!service) throw errors.notFound(`Can't find service: ${host}`);
    // Cinder asks the service itself, which a service that stopped reporting does not answer.
    const silentFor = Date.now() - (parseTimestamp(service.updated_at)?.getTime() ?? 0);
    if (service.capabilities === null || silentFor > this.options.serviceDownTimeMs) throw errors.capabilitiesTimeout(service.host);
    const reported = JSON.parse(service.capabilities) as Record<string, unknown>;
    return { serviceHost: service.host, capabilities: { ...reported, properties: STANDARD_PROPERTIES } };
  }
}
