import type { VolumeManager } from '../../manager/manager.js';
import type { VolumeRpc } from '../rpc.js';

/**
 * The embedded mode: the manager runs in this process. Arguments are copied as a wire
 * transport would copy them, so nothing can come to depend on sharing objects with the
 * manager and break once the manager lives elsewhere.
 */
export class LocalVolumeRpc implements VolumeRpc {
  constructor(private readonly manager: VolumeManager) {}

  createVolume(volumeId: string, sizeGiB: number) {
    return this.manager.createVolume(volumeId, sizeGiB);
  }
  cloneVolume(volumeId: string, sourceId: string, sizeGiB: number) {
    return this.manager.cloneVolume(volumeId, sourceId, sizeGiB);
  }
  createSnapshot(volumeId: string, snapshotId: string) {
    return this.manager.createSnapshot(volumeId, snapshotId);
  }
  deleteSnapshot(volumeId: string, snapshotId: string) {
    return this.manager.deleteSnapshot(volumeId, snapshotId);
  }
  createVolumeFromSnapshot(volumeId: string, snapshotId: string, sizeGiB: number) {
    return this.manager.createVolumeFromSnapshot(volumeId, snapshotId, sizeGiB);
  }
  revertToSnapshot(volumeId: string, snapshotId: string) {
    return this.manager.revertToSnapshot(volumeId, snapshotId);
  }
  deleteVolume(volumeId: string) {
    return this.manager.deleteVolume(volumeId);
  }
  extendVolume(volumeId: string, newSizeGiB: number) {
    return this.manager.extendVolume(volumeId, newSizeGiB);
  }
  initializeConnection(...args: Parameters<VolumeRpc['initializeConnection']>) {
    const [volumeId, connector, opts] = structuredClone(args);
    return this.manager.initializeConnection(volumeId, connector, opts);
  }
  terminateConnection(...args: Parameters<VolumeRpc['terminateConnection']>) {
    const [volumeId, connector] = structuredClone(args);
    return this.manager.terminateConnection(volumeId, connector);
  }
  releaseAttachment(volumeId: string, attachmentId: string) {
    return this.manager.releaseAttachment(volumeId, attachmentId);
  }
  adoptLegacyConnection(volumeId: string, attachmentId: string, hostName: string | null) {
    return this.manager.adoptLegacyConnection(volumeId, attachmentId, hostName);
  }
  revokeAll(volumeId: string) {
    return this.manager.revokeAll(volumeId);
  }
  refreshLimits(volumeId: string) {
    return this.manager.refreshLimits(volumeId);
  }
}
