// Where the bytes live. One folder per backend (drivers/file/), registered in
// drivers/registry.ts.

export interface VolumeDriverContext {
  dataDir: string;
  /** How far thin volumes may promise more than the backend holds (Cinder's max_over_subscription_ratio). */
  maxOverSubscriptionRatio: number;
  /** Percent of the backend's capacity kept free of volumes (Cinder's reserved_percentage). */
  reservedPercentage: number;
}

/**
 * What a backend says about its capacity, under the names Cinder's get_volume_stats
 * reports them (the scheduler, get_pools and Cinder's tools all read these names), in GiB.
 */
export interface VolumeStats {
  total_capacity_gb: number;
  free_capacity_gb: number;
  /** What the backend's volumes and snapshots would take if every block were written. */
  provisioned_capacity_gb: number;
  thin_provisioning_support: boolean;
  thick_provisioning_support: boolean;
  max_over_subscription_ratio: number;
  reserved_percentage: number;
  total_volumes: number;
  vendor_name: string;
  driver_version: string;
  storage_protocol: string;
}

export interface VolumeDriver {
  readonly name: string;
  /** Prepares the backend (directories, capacity checks). */
  start(): Promise<void>;
  /** Creates an empty volume of sizeGiB. Idempotent: an existing volume of that size is kept. */
  createVolume(volumeId: string, sizeGiB: number): Promise<void>;
  /** Idempotent: deleting a volume that is not there succeeds. */
  deleteVolume(volumeId: string): Promise<void>;
  extendVolume(volumeId: string, newSizeGiB: number): Promise<void>;
  /**
   * Creates a volume holding a copy of `sourceId`'s blocks, then grown to sizeGiB.
   * Idempotent: a finished clone is kept, an interrupted one is done again.
   */
  cloneVolume(volumeId: string, sourceId: string, sizeGiB: number): Promise<void>;
  /** A point-in-time copy of the volume's blocks. Idempotent, as cloneVolume. */
  createSnapshot(volumeId: string, snapshotId: string): Promise<void>;
  /** Idempotent: deleting a snapshot that is not there succeeds. */
  deleteSnapshot(snapshotId: string): Promise<void>;
  /** Creates a volume holding the snapshot's blocks, grown to sizeGiB. Idempotent, as cloneVolume. */
  createVolumeFromSnapshot(volumeId: string, snapshotId: string, sizeGiB: number): Promise<void>;
  /**
   * Writes the snapshot's blocks over the volume's (same size), in the same file, so an
   * export still open on it sees the reverted data. Idempotent: a retry copies again.
   */
  revertToSnapshot(volumeId: string, snapshotId: string): Promise<void>;
  /** The path the target exports (a regular file for the file driver). */
  volumePath(volumeId: string): string;
  /** Whether the volume exists in the backend. */
  hasVolume(volumeId: string): Promise<boolean>;
  /** The backend's capacity now, read from the storage itself. */
  getVolumeStats(): Promise<VolumeStats>;
}
