// Cinder's quota resources and their defaults, and how much of each a volume, a snapshot
// or an extend takes. Settings and views read these without the database.

/** Cinder's resources that every project has, whatever its volume types. */
export const BASE_RESOURCES = ['volumes', 'per_volume_gigabytes', 'snapshots', 'gigabytes', 'backups', 'backup_gigabytes', 'groups'] as const;
export type BaseResource = (typeof BASE_RESOURCES)[number];
/** The resources counted per volume type, as `<part>_<type name>`. */
export const TYPE_RESOURCE_PARTS = ['volumes', 'gigabytes', 'snapshots'] as const;

/** The limits a project has when neither it nor the default quota class says otherwise. */
export type QuotaDefaults = Record<BaseResource, number>;

/** Cinder's defaults (quota_volumes, quota_snapshots, ..., per_volume_size_limit). */
export const CINDER_QUOTA_DEFAULTS: QuotaDefaults = {
  volumes: 10,
  per_volume_gigabytes: -1,
  snapshots: 10,
  gigabytes: 1000,
  backups: 10,
  backup_gigabytes: 1000,
  groups: 10,
};

/** The class whose limits stand in for a project's own where it has none. */
export const DEFAULT_QUOTA_CLASS = 'default';

/** Resource -> amount taken (positive) or given back (negative). */
export type UsageDelta = Record<string, number>;

export function volumeUsage(size: number, typeName: string): UsageDelta {
  return { volumes: 1, gigabytes: size, [`volumes_${typeName}`]: 1, [`gigabytes_${typeName}`]: size };
}

/** A snapshot counts its volume's size against gigabytes, as in Cinder (no_snapshot_gb_quota off). */
export function snapshotUsage(size: number, typeName: string): UsageDelta {
  return { snapshots: 1, gigabytes: size, [`snapshots_${typeName}`]: 1, [`gigabytes_${typeName}`]: size };
}

/** A generic volume group counts against groups alone; its volumes count as any volume does. */
export const GROUP_USAGE: UsageDelta = { groups: 1 };

export function extendUsage(increase: number, typeName: string): UsageDelta {
  return { gigabytes: increase, [`gigabytes_${typeName}`]: increase };
}

/** A backup counts its volume's size against backup_gigabytes. */
export function backupUsage(size: number): UsageDelta {
  return { backups: 1, backup_gigabytes: size };
}
