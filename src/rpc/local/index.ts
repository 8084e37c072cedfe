import type { VolumeManager } from '../../manager/manager.js';
import type { BackendKind, VolumeRpc } from '../rpc.js';

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
  backupVolume(...args: Parameters<VolumeRpc['backupVolume']>) {
    const [volumeId, snapshotId, req] = structuredClone(args);
    return this.manager.backupVolume(volumeId, snapshotId, req);
  }
  restoreBackup(...args: Parameters<VolumeRpc['restoreBackup']>) {
    const [volumeId, chain] = structuredClone(args);
    return this.manager.restoreBackup(volumeId, chain);
  }
  deleteBackup(...args: Parameters<VolumeRpc['deleteBackup']>) {
    const [volumeId, at] = structuredClone(args);
    return this.manager.deleteBackup(volumeId, at);
  }
  hasBackup(...args: Parameters<VolumeRpc['hasBackup']>) {
    const [volumeId, service, at] = structuredClone(args);
    return this.manager.hasBackup(volumeId, service, at);
  }
  refreshLimits(volumeId: string) {
    return this.manager.refreshLimits(volumeId);
  }
  listBackendObjects(storageHost: string, kind: BackendKind) {
    return this.manager.listBackendObjects(storageHost, kind);
  }
  sizeOfExisting(volumeId: string, kind: BackendKind, sourceName: string) {
    return this.manager.sizeOfExisting(volumeId, kind, sourceName);
  }
  manageExisting(volumeId: string, kind: BackendKind, id: string, sourceName: string) {
    return this.manager.manageExisting(volumeId, kind, id, sourceName);
  }
  unmanageVolume(volumeId: string) {
    return this.manager.unmanageVolume(volumeId);
  }
  getLogLevels(storageHost: string, prefix: string) {
    return this.manager.getLogLevels(storageHost, prefix);
  }
  setLogLevels(storageHost: string, prefix: string, level: string) {
    return this.manager.setLogLevels(storageHost, prefix, level);
  }
}
