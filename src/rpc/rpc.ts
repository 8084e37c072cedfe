import type { BackupLocation } from '../backups/driver.js';
import type { BackupRequest, BackupResult } from '../manager/backups.js';
import type { ConnectOptions } from '../manager/manager.js';
import type { BackendKind, BackendObject } from '../drivers/driver.js';
import type { ConnectionInfo, Connector } from '../volumes/types.js';

export type { BackendKind, ConnectOptions };

/**
 * What the workflow asks of the storage host. Arguments and results are plain JSON so
 * that a transport between processes (rpc/amqp/) is one new folder implementing this.
 * Calls that fail because the request was invalid reject with a CinderError; anything
 * else is a backend failure the workflow reports in Cinder's words for that door.
 */
export interface VolumeRpc {
  createVolume(volumeId: string, sizeGiB: number): Promise<void>;
  /** A new volume as a copy of another on the same storage host. */
  cloneVolume(volumeId: string, sourceId: string, sizeGiB: number): Promise<void>;
  createSnapshot(volumeId: string, snapshotId: string): Promise<void>;
  /** `volumeId` is the snapshot's volume: it names the storage host that keeps the snapshot. */
  deleteSnapshot(volumeId: string, snapshotId: string): Promise<void>;
  createVolumeFromSnapshot(volumeId: string, snapshotId: string, sizeGiB: number): Promise<void>;
  /** The volume's blocks become the snapshot's again. */
  revertToSnapshot(volumeId: string, snapshotId: string): Promise<void>;
  deleteVolume(volumeId: string): Promise<void>;
  extendVolume(volumeId: string, newSizeGiB: number): Promise<void>;
  initializeConnection(volumeId: string, connector: Connector, opts: ConnectOptions): Promise<ConnectionInfo>;
  terminateConnection(volumeId: string, connector: Connector | null): Promise<void>;
  releaseAttachment(volumeId: string, attachmentId: string): Promise<void>;
  adoptLegacyConnection(volumeId: string, attachmentId: string, hostName: string | null): Promise<Connector | null>;
  revokeAll(volumeId: string): Promise<void>;
  /** Copies the volume, or its snapshot `snapshotId`, into the backup store. */
  backupVolume(volumeId: string, snapshotId: string | null, req: BackupRequest): Promise<BackupResult>;
  /** Writes a backup (its chain: it and its ancestors, newest first) back into the volume. */
  restoreBackup(volumeId: string, chain: BackupLocation[]): Promise<void>;
  /** `volumeId` is the backup's volume: it names the storage host whose store holds the backup. */
  deleteBackup(volumeId: string, at: BackupLocation): Promise<void>;
  /** Whether a backup's data is whole in the store of the host serving `volumeId`, and that store is `service`. */
  hasBackup(volumeId: string, service: string, at: BackupLocation): Promise<boolean>;
  /** The volume's type or size changed: its export takes the QoS limits they give now. */
  refreshLimits(volumeId: string): Promise<void>;
  /** What the backend of `storageHost` (a volume's os-vol-host-attr:host) holds, managed or not. */
  listBackendObjects(storageHost: string, kind: BackendKind): Promise<BackendObject[]>;
  /** `volumeId` names the storage host: the volume being managed, or the volume of the snapshot being managed. */
  sizeOfExisting(volumeId: string, kind: BackendKind, sourceName: string): Promise<number>;
  /** `id` is the new volume's (then equal to `volumeId`) or the new snapshot's. */
  manageExisting(volumeId: string, kind: BackendKind, id: string, sourceName: string): Promise<void>;
  /** The volume's export goes; its blocks stay on the backend, no longer ours. */
  unmanageVolume(volumeId: string): Promise<void>;
  /** The levels `storageHost`'s loggers whose names start with `prefix` write at, by name. */
  getLogLevels(storageHost: string, prefix: string): Promise<Record<string, string>>;
  /** `level` is one of Cinder's (INFO, WARNING, ERROR, DEBUG), already checked. */
  setLogLevels(storageHost: string, prefix: string, level: string): Promise<void>;
}

/** Every call of VolumeRpc, for what handles them generically (a transport, metrics). */
export const VOLUME_RPC_CALLS = [
  'createVolume',
  'cloneVolume',
  'createSnapshot',
  'deleteSnapshot',
  'createVolumeFromSnapshot',
  'revertToSnapshot',
  'deleteVolume',
  'extendVolume',
  'initializeConnection',
  'terminateConnection',
  'releaseAttachment',
  'adoptLegacyConnection',
  'revokeAll',
  'backupVolume',
  'restoreBackup',
  'deleteBackup',
  'hasBackup',
  'refreshLimits',
  'listBackendObjects',
  'sizeOfExisting',
  'manageExisting',
  'unmanageVolume',
  'getLogLevels',
  'setLogLevels',
] as const satisfies ReadonlyArray<keyof VolumeRpc>;

export type VolumeRpcCall = (typeof VOLUME_RPC_CALLS)[number];
