import type { ConnectOptions } from '../manager/manager.js';
import type { ConnectionInfo, Connector } from '../volumes/types.js';

export type { ConnectOptions };

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
  /** The volume's type or size changed: its export takes the QoS limits they give now. */
  refreshLimits(volumeId: string): Promise<void>;
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
  'refreshLimits',
] as const satisfies ReadonlyArray<keyof VolumeRpc>;

export type VolumeRpcCall = (typeof VOLUME_RPC_CALLS)[number];
