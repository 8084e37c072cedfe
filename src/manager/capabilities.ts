// What a storage host tells the scheduler about its backend with each heartbeat: the
// driver's stats (get_volume_stats) and the manager's own count of what it has given
// out, under the names Cinder's host manager keeps per pool (get_pools shows them).

import { sql, type Kysely } from 'kysely';
import { nowTimestamp, type Database } from '../db/schema.js';
import type { VolumeDriver, VolumeStats } from '../drivers/driver.js';

export interface Capabilities extends VolumeStats {
  pool_name: string;
  volume_backend_name: string;
  /**
   * Sum of the sizes of the volumes placed on this pool (Cinder's manager counts these
   * itself); the scheduler counts what was placed after the report from it.
   */
  allocated_capacity_gb: number;
  QoS_support: boolean;
  multiattach: boolean;
  backend_state: 'up';
  /** When the driver was asked, in the stored form (naive UTC, as Cinder prints it). */
  timestamp: string;
}

/** The driver's stats plus the pool's identity and allocation, as one heartbeat reports them. */
export async function reportCapabilities(db: Kysely<Database>, driver: VolumeDriver, poolHost: string): Promise<Capabilities> {
  const timestamp = nowTimestamp();
  const stats = await driver.getVolumeStats();
  const row = await db
    .selectFrom('volumes')
    .select(sql<number | string | null>`sum(size)`.as('gib'))
    .where('host', '=', poolHost)
    .executeTakeFirst();
  const backend = poolHost.slice(poolHost.indexOf('@') + 1, poolHost.indexOf('#'));
  return {
    ...stats,
    pool_name: poolHost.slice(poolHost.indexOf('#') + 1),
    volume_backend_name: backend,
    allocated_capacity_gb: Number(row?.gib ?? 0),
    QoS_support: false,
    multiattach: true,
    backend_state: 'up',
    timestamp,
  };
}
