// The BlockStorage service: Cinder's volume API and its one attachment state machine.
// Both doors (the legacy actions and the attachments API) move a volume through the
// rules of states.ts, each move one conditional UPDATE, and share the same attachment
// steps (create row, connect, mark attached, finish detach).
//
// Workflow only hands each call to the part that does it; the parts share one core
// (core.ts): the state machine (machine.ts) and the loaders (loading.ts) among them.

import type { Kysely } from 'kysely';
import type { Logger } from 'pino';
import type { Database } from '../db/schema.js';
import type { KeyedLocks } from '../db/keyed-lock.js';
import type { VolumeRpc } from '../rpc/rpc.js';
import { AttachmentSteps } from './attachment-steps.js';
import type { BackupExport, BackupRecord, CreateBackupRequest, RestoreRecord, UpdateBackupRequest } from './backup-types.js';
import { Backups } from './backups.js';
import { AttachmentsApi } from './attachments-api.js';
import type { WorkflowCore, WorkflowOptions } from './core.js';
import { countStatuses, type StatusCounts } from './inventory.js';
import { LegacyActions } from './legacy-actions.js';
import { Loader } from './loading.js';
import { VolumeMachine } from './machine.js';
import { UserMessages } from './messages.js';
import type { BlockStorage } from './service.js';
import { ServicesAdmin } from './services-admin.js';
import { LogLevelsAdmin, type LogLevelRequest, type ServiceLogLevels } from './log-levels-admin.js';
import { HostsAdmin, type BackendCapabilities, type HostRecord, type HostUsage } from './hosts-admin.js';
import { QuotaSets } from './quota-sets.js';
import { QosSpecs } from './qos-specs.js';
import { SnapshotActions } from './snapshot-actions.js';
import { SnapshotMetadata } from './snapshot-metadata.js';
import { Snapshots } from './snapshots.js';
import { VolumeRevert } from './volume-revert.js';
import { Transfers, type CreatedTransfer, type TransferListQuery, type TransferRecord } from './transfers.js';
import { ManageExisting, type BackendKind, type ManageableEntry, type ManageableQuery, type ManageSnapshotRequest, type ManageVolumeRequest } from './manage.js';
import type {
  CreateGroupFromSourceRequest,
  CreateGroupRequest,
  GroupRecord,
  GroupSnapshotRecord,
  GroupTypePatch,
  GroupTypeRecord,
  GroupTypeRequest,
  UpdateGroupRequest,
} from './group-records.js';
import { GroupSnapshots } from './group-snapshots.js';
import { GroupTypes } from './group-types.js';
import { Groups } from './groups.js';
import type {
  AttachmentRecord,
  ConnectionInfo,
  Connector,
  CreateAttachmentRequest,
  CreateSnapshotRequest,
  CreateVolumeRequest,
  LegacyAttachRequest,
  ListQuery,
  MessageRecord,
  PoolRecord,
  QosAssociation,
  QosSpecsRecord,
  RequestContext,
  ResetStatusRequest,
  ServiceRecord,
  SnapshotRecord,
  UpdateVolumeRequest,
  VolumeRecord,
  VolumeTypeRecord,
  QuotaUsage,
} from './types.js';
import { VolumeLifecycle } from './volume-lifecycle.js';
import { VolumeProperties } from './volume-properties.js';
import { VolumeTypes, type VolumeTypePatch } from './volume-types.js';
import { DefaultTypes } from './default-types.js';
import { Retype } from './retype.js';
import { TypeAccess } from './type-access.js';
import { TypeEncryption } from './type-encryption.js';
import type { DefaultTypeRecord, EncryptionRecord, EncryptionSpecs, RetypeRequest, TypeAccessRecord } from './type-management.js';

export type { WorkflowOptions } from './core.js';

export class Workflow implements BlockStorage {
  private readonly machine: VolumeMachine;
  private readonly load: Loader;
  private readonly lifecycle: VolumeLifecycle;
  private readonly properties: VolumeProperties;
  private readonly legacy: LegacyActions;
  private readonly attachments: AttachmentsApi;
  private readonly snapshots: Snapshots;
  private readonly backups: Backups;
  private readonly snapshotActions: SnapshotActions;
  private readonly snapshotMetadata: SnapshotMetadata;
  private readonly revert: VolumeRevert;
  private readonly types: VolumeTypes;
  private readonly services: ServicesAdmin;
  private readonly logLevels: LogLevelsAdmin;
  private readonly hosts: HostsAdmin;
  private readonly quotas: QuotaSets;
  private readonly messages: UserMessages;
  private readonly groupTypes: GroupTypes;
  private readonly groups: Groups;
  private readonly groupSnapshots: GroupSnapshots;
  private readonly typeAccess: TypeAccess;
  private readonly encryption: TypeEncryption;
  private readonly defaultTypes: DefaultTypes;
  private readonly retype: Retype;
  private readonly qos: QosSpecs;
  private readonly transfers: Transfers;
  private readonly manage: ManageExisting;

  constructor(
    private readonly db: Kysely<Database>,
    rpc: VolumeRpc,
    /** One volume's multi-step sequences take turns under its lock, in every process sharing the database. */
    locks: KeyedLocks,
    options: WorkflowOptions,
    logger: Logger,
  ) {
    this.machine = new VolumeMachine(db, rpc, logger);
    this.load = new Loader(db);
    const core: WorkflowCore = { db, rpc, locks, options, logger, machine: this.machine, load: this.load };
    const steps = new AttachmentSteps(core);
    this.types = new VolumeTypes(core);
    this.lifecycle = new VolumeLifecycle(core, this.types);
    this.properties = new VolumeProperties(core);
    this.legacy = new LegacyActions(core, steps);
    this.attachments = new AttachmentsApi(core, steps);
    this.snapshots = new Snapshots(core);
    this.backups = new Backups(core, this.lifecycle);
    this.snapshotActions = new SnapshotActions(core);
    this.snapshotMetadata = new SnapshotMetadata(core);
    this.revert = new VolumeRevert(core);
    this.services = new ServicesAdmin(core);
    this.logLevels = new LogLevelsAdmin(core);
    this.hosts = new HostsAdmin(core);
    this.quotas = new QuotaSets(core);
    this.messages = new UserMessages(core);
    this.groupTypes = new GroupTypes(core);
    this.groups = new Groups(core, this.groupTypes, this.types, this.lifecycle);
    this.groupSnapshots = new GroupSnapshots(core, this.groups, this.snapshots);
    this.typeAccess = new TypeAccess(core, this.types);
    this.encryption = new TypeEncryption(core, this.types);
    this.defaultTypes = new DefaultTypes(core, this.types);
    this.retype = new Retype(core, this.types, this.encryption);
    this.qos = new QosSpecs(core);
    this.transfers = new Transfers(core);
    this.manage = new ManageExisting(core, this.types);
  }

  start(): Promise<void> {
    return this.load.start();
  }

  /** Waits for every background step started so far (volume create, delete, extend). */
  drain(): Promise<void> {
    return this.machine.drain();
  }

  /** Start-up: finishes or fails the steps a previous run on this storage host left half done. */
  async resumeInterrupted(volumeHost: string): Promise<{ resumed: number }> {
    const steps = await this.machine.resumeInterrupted(volumeHost);
    const reverts = await this.revert.resumeInterrupted(volumeHost);
    const backups = await this.backups.resumeInterrupted(volumeHost);
    return { resumed: steps.resumed + reverts.resumed + backups.resumed };
  }

  /** How many volumes are in each status, and live attachments in each attach_status, over all projects. */
  statusCounts(): Promise<StatusCounts> {
    return countStatuses(this.db);
  }

  // ---------------------------------------------------------------- volumes

  createVolume(ctx: RequestContext, req: CreateVolumeRequest): Promise<VolumeRecord> {
    return this.lifecycle.createVolume(ctx, req);
  }

  extendVolume(ctx: RequestContext, id: string, newSize: number, opts: { allowAttached: boolean }): Promise<void> {
    return this.lifecycle.extendVolume(ctx, id, newSize, opts);
  }

  deleteVolume(ctx: RequestContext, id: string, opts: { force: boolean; cascade: boolean; adminAction?: boolean }): Promise<void> {
    return this.lifecycle.deleteVolume(ctx, id, opts);
  }

  getVolume(ctx: RequestContext, id: string): Promise<VolumeRecord> {
    return this.properties.getVolume(ctx, id);
  }

  listVolumes(ctx: RequestContext, query: ListQuery): Promise<{ volumes: VolumeRecord[]; count: number }> {
    return this.properties.listVolumes(ctx, query);
  }

  updateVolume(ctx: RequestContext, id: string, patch: UpdateVolumeRequest): Promise<VolumeRecord> {
    return this.properties.updateVolume(ctx, id, patch);
  }

  setBootable(ctx: RequestContext, id: string, bootable: boolean): Promise<void> {
    return this.properties.setBootable(ctx, id, bootable);
  }

  updateReadonlyFlag(ctx: RequestContext, id: string, readonly: boolean): Promise<void> {
    return this.properties.updateReadonlyFlag(ctx, id, readonly);
  }

  getMetadata(ctx: RequestContext, id: string): Promise<Record<string, string>> {
    return this.properties.getMetadata(ctx, id);
  }

  setMetadata(ctx: RequestContext, id: string, metadata: Record<string, string>, how: 'merge' | 'replace' | 'item'): Promise<Record<string, string>> {
    return this.properties.setMetadata(ctx, id, metadata, how);
  }

  deleteMetadataKey(ctx: RequestContext, id: string, key: string): Promise<void> {
    return this.properties.deleteMetadataKey(ctx, id, key);
  }

  // ---------------------------------------------------------------- legacy actions

  reserve(ctx: RequestContext, id: string): Promise<void> {
    return this.legacy.reserve(ctx, id);
  }

  unreserve(ctx: RequestContext, id: string): Promise<void> {
    return this.legacy.unreserve(ctx, id);
  }

  initializeConnection(ctx: RequestContext, id: string, connector: Connector): Promise<ConnectionInfo> {
    return this.legacy.initializeConnection(ctx, id, connector);
  }

  attach(ctx: RequestContext, id: string, req: LegacyAttachRequest): Promise<void> {
    return this.legacy.attach(ctx, id, req);
  }

  beginDetaching(ctx: RequestContext, id: string): Promise<void> {
    return this.legacy.beginDetaching(ctx, id);
  }

  rollDetaching(ctx: RequestContext, id: string): Promise<void> {
    return this.legacy.rollDetaching(ctx, id);
  }

  terminateConnection(ctx: RequestContext, id: string, connector: Connector | null, force: boolean): Promise<void> {
    return this.legacy.terminateConnection(ctx, id, connector, force);
  }

  detach(ctx: RequestContext, id: string, attachmentId: string | null): Promise<void> {
    return this.legacy.detach(ctx, id, attachmentId);
  }

  forceDetach(ctx: RequestContext, id: string, connector: Connector | null, attachmentId: string | null): Promise<void> {
    return this.legacy.forceDetach(ctx, id, connector, attachmentId);
  }

  resetStatus(ctx: RequestContext, id: string, req: ResetStatusRequest): Promise<void> {
    return this.legacy.resetStatus(ctx, id, req);
  }

  // ---------------------------------------------------------------- attachments API

  createAttachment(ctx: RequestContext, req: CreateAttachmentRequest): Promise<AttachmentRecord> {
    return this.attachments.createAttachment(ctx, req);
  }

  updateAttachment(ctx: RequestContext, id: string, connector: Connector): Promise<AttachmentRecord> {
    return this.attachments.updateAttachment(ctx, id, connector);
  }

  completeAttachment(ctx: RequestContext, id: string): Promise<void> {
    return this.attachments.completeAttachment(ctx, id);
  }

  deleteAttachment(ctx: RequestContext, id: string): Promise<AttachmentRecord[]> {
    return this.attachments.deleteAttachment(ctx, id);
  }

  getAttachment(ctx: RequestContext, id: string): Promise<AttachmentRecord> {
    return this.attachments.getAttachment(ctx, id);
  }

  listAttachments(ctx: RequestContext, query: ListQuery): Promise<{ attachments: AttachmentRecord[]; count: number }> {
    return this.attachments.listAttachments(ctx, query);
  }

  // ---------------------------------------------------------------- snapshots

  createSnapshot(ctx: RequestContext, req: CreateSnapshotRequest): Promise<SnapshotRecord> {
    return this.snapshots.createSnapshot(ctx, req);
  }

  getSnapshot(ctx: RequestContext, id: string): Promise<SnapshotRecord> {
    return this.snapshots.getSnapshot(ctx, id);
  }

  listSnapshots(ctx: RequestContext, query: ListQuery): Promise<{ snapshots: SnapshotRecord[]; count: number }> {
    return this.snapshots.listSnapshots(ctx, query);
  }

  updateSnapshot(ctx: RequestContext, id: string, patch: { name?: string | null; description?: string | null }): Promise<SnapshotRecord> {
    return this.snapshots.updateSnapshot(ctx, id, patch);
  }

  deleteSnapshot(ctx: RequestContext, id: string, opts?: { force: boolean }): Promise<void> {
    return this.snapshots.deleteSnapshot(ctx, id, opts);
  }

  resetSnapshotStatus(ctx: RequestContext, id: string, status: string): Promise<void> {
    return this.snapshotActions.resetSnapshotStatus(ctx, id, status);
  }

  updateSnapshotStatus(ctx: RequestContext, id: string, req: { status: string; progress?: string }): Promise<void> {
    return this.snapshotActions.updateSnapshotStatus(ctx, id, req);
  }

  getSnapshotMetadata(ctx: RequestContext, id: string): Promise<Record<string, string>> {
    return this.snapshotMetadata.getSnapshotMetadata(ctx, id);
  }

  setSnapshotMetadata(ctx: RequestContext, id: string, metadata: Record<string, unknown>, how: 'merge' | 'replace'): Promise<Record<string, string>> {
    return this.snapshotMetadata.setSnapshotMetadata(ctx, id, metadata, how);
  }

  deleteSnapshotMetadataKey(ctx: RequestContext, id: string, key: string): Promise<void> {
    return this.snapshotMetadata.deleteSnapshotMetadataKey(ctx, id, key);
  }

  revertToSnapshot(ctx: RequestContext, volumeId: string, snapshotId: string | null): Promise<void> {
    return this.revert.revertToSnapshot(ctx, volumeId, snapshotId);
  }

  // ---------------------------------------------------------------- backups

  createBackup(ctx: RequestContext, req: CreateBackupRequest): Promise<BackupRecord> {
    return this.backups.createBackup(ctx, req);
  }

  getBackup(ctx: RequestContext, id: string): Promise<BackupRecord> {
    return this.backups.getBackup(ctx, id);
  }

  listBackups(ctx: RequestContext, query: ListQuery): Promise<{ backups: BackupRecord[]; count: number }> {
    return this.backups.listBackups(ctx, query);
  }

  updateBackup(ctx: RequestContext, id: string, patch: UpdateBackupRequest): Promise<BackupRecord> {
    return this.backups.updateBackup(ctx, id, patch);
  }

  deleteBackup(ctx: RequestContext, id: string, opts: { force: boolean }): Promise<void> {
    return this.backups.deleteBackup(ctx, id, opts);
  }

  restoreBackup(ctx: RequestContext, id: string, req: { volumeId?: string | null; name?: string | null }): Promise<RestoreRecord> {
    return this.backups.restoreBackup(ctx, id, req);
  }

  exportBackupRecord(ctx: RequestContext, id: string): Promise<BackupExport> {
    return this.backups.exportBackupRecord(ctx, id);
  }

  importBackupRecord(ctx: RequestContext, req: BackupExport): Promise<BackupRecord> {
    return this.backups.importBackupRecord(ctx, req);
  }

  resetBackupStatus(ctx: RequestContext, id: string, status: string): Promise<void> {
    return this.backups.resetBackupStatus(ctx, id, status);
  }

  // ---------------------------------------------------------------- volume types

  createVolumeType(
    ctx: RequestContext,
    req: { name: string; description?: string | null; isPublic?: boolean; extraSpecs?: Record<string, string> },
  ): Promise<VolumeTypeRecord> {
    return this.types.createVolumeType(ctx, req);
  }

  listVolumeTypes(ctx: RequestContext, filter?: { isPublic?: boolean | null }): Promise<VolumeTypeRecord[]> {
    return this.types.listVolumeTypes(ctx, filter);
  }

  getVolumeType(ctx: RequestContext, idOrName: string): Promise<VolumeTypeRecord> {
    return this.types.getVolumeType(ctx, idOrName);
  }

  deleteVolumeType(ctx: RequestContext, id: string): Promise<void> {
    return this.types.deleteVolumeType(ctx, id);
  }

  getExtraSpecs(ctx: RequestContext, typeId: string, key?: string): Promise<Record<string, string>> {
    return this.types.getExtraSpecs(ctx, typeId, key);
  }

  setExtraSpecs(ctx: RequestContext, typeId: string, specs: Record<string, string>, how: 'create' | 'update'): Promise<Record<string, string>> {
    return this.types.setExtraSpecs(ctx, typeId, specs, how);
  }

  deleteExtraSpec(ctx: RequestContext, typeId: string, key: string): Promise<void> {
    return this.types.deleteExtraSpec(ctx, typeId, key);
  }

  updateVolumeType(ctx: RequestContext, id: string, patch: VolumeTypePatch): Promise<VolumeTypeRecord> {
    return this.types.updateVolumeType(ctx, id, patch);
  }

  getDefaultVolumeType(ctx: RequestContext): Promise<VolumeTypeRecord> {
    return this.types.getDefaultVolumeType(ctx);
  }

  // ---------------------------------------------------------------- volume type access, encryption, project defaults

  addTypeAccess(ctx: RequestContext, typeId: string, projectId: string): Promise<void> {
    return this.typeAccess.addTypeAccess(ctx, typeId, projectId);
  }

  removeTypeAccess(ctx: RequestContext, typeId: string, projectId: string): Promise<void> {
    return this.typeAccess.removeTypeAccess(ctx, typeId, projectId);
  }

  listTypeAccess(ctx: RequestContext, typeId: string): Promise<TypeAccessRecord[]> {
    return this.typeAccess.listTypeAccess(ctx, typeId);
  }

  getEncryption(ctx: RequestContext, typeId: string): Promise<EncryptionRecord | null> {
    return this.encryption.getEncryption(ctx, typeId);
  }

  createEncryption(ctx: RequestContext, typeId: string, specs: EncryptionSpecs): Promise<EncryptionRecord> {
    return this.encryption.createEncryption(ctx, typeId, specs);
  }

  updateEncryption(ctx: RequestContext, typeId: string, specs: EncryptionSpecs): Promise<void> {
    return this.encryption.updateEncryption(ctx, typeId, specs);
  }

  deleteEncryption(ctx: RequestContext, typeId: string): Promise<void> {
    return this.encryption.deleteEncryption(ctx, typeId);
  }

  setDefaultType(ctx: RequestContext, projectId: string, typeIdOrName: string): Promise<DefaultTypeRecord> {
    return this.defaultTypes.setDefaultType(ctx, projectId, typeIdOrName);
  }

  getDefaultType(ctx: RequestContext, projectId: string): Promise<DefaultTypeRecord> {
    return this.defaultTypes.getDefaultType(ctx, projectId);
  }

  listDefaultTypes(ctx: RequestContext): Promise<DefaultTypeRecord[]> {
    return this.defaultTypes.listDefaultTypes(ctx);
  }

  unsetDefaultType(ctx: RequestContext, projectId: string): Promise<void> {
    return this.defaultTypes.unsetDefaultType(ctx, projectId);
  }

  retypeVolume(ctx: RequestContext, volumeId: string, req: RetypeRequest): Promise<void> {
    return this.retype.retypeVolume(ctx, volumeId, req);
  }

  // ---------------------------------------------------------------- QoS specs

  createQosSpecs(ctx: RequestContext, name: string, specs: Record<string, unknown>): Promise<QosSpecsRecord> {
    return this.qos.createQosSpecs(ctx, name, specs);
  }

  listQosSpecs(ctx: RequestContext, query: ListQuery): Promise<QosSpecsRecord[]> {
    return this.qos.listQosSpecs(ctx, query);
  }

  getQosSpecs(ctx: RequestContext, id: string): Promise<QosSpecsRecord> {
    return this.qos.getQosSpecs(ctx, id);
  }

  setQosKeys(ctx: RequestContext, id: string, specs: Record<string, string | null>): Promise<void> {
    return this.qos.setQosKeys(ctx, id, specs);
  }

  deleteQosKeys(ctx: RequestContext, id: string, keys: string[]): Promise<void> {
    return this.qos.deleteQosKeys(ctx, id, keys);
  }

  deleteQosSpecs(ctx: RequestContext, id: string, force: boolean): Promise<void> {
    return this.qos.deleteQosSpecs(ctx, id, force);
  }

  getQosAssociations(ctx: RequestContext, id: string): Promise<QosAssociation[]> {
    return this.qos.getQosAssociations(ctx, id);
  }

  associateQosSpecs(ctx: RequestContext, id: string, typeId: string | undefined): Promise<void> {
    return this.qos.associateQosSpecs(ctx, id, typeId);
  }

  disassociateQosSpecs(ctx: RequestContext, id: string, typeId: string | undefined): Promise<void> {
    return this.qos.disassociateQosSpecs(ctx, id, typeId);
  }

  disassociateAllQosSpecs(ctx: RequestContext, id: string): Promise<void> {
    return this.qos.disassociateAllQosSpecs(ctx, id);
  }

  // ---------------------------------------------------------------- services

  listServices(ctx: RequestContext, filters: { host?: string; binary?: string }): Promise<ServiceRecord[]> {
    return this.services.listServices(ctx, filters);
  }

  setServiceDisabled(ctx: RequestContext, req: { host: string; binary: string; disabled: boolean; reason?: string }): Promise<void> {
    return this.services.setServiceDisabled(ctx, req);
  }

  freezeHost(ctx: RequestContext, host: string): Promise<void> {
    return this.services.freezeHost(ctx, host);
  }

  thawHost(ctx: RequestContext, host: string): Promise<void> {
    return this.services.thawHost(ctx, host);
  }

  getLogLevels(ctx: RequestContext, req: LogLevelRequest): Promise<ServiceLogLevels[]> {
    return this.logLevels.getLogLevels(ctx, req);
  }

  setLogLevels(ctx: RequestContext, req: LogLevelRequest & { level?: string | null }): Promise<void> {
    return this.logLevels.setLogLevels(ctx, req);
  }

  // ---------------------------------------------------------------- hosts and backends

  listHosts(ctx: RequestContext, zone: string | undefined): Promise<HostRecord[]> {
    return this.hosts.listHosts(ctx, zone);
  }

  showHost(ctx: RequestContext, host: string): Promise<HostUsage[]> {
    return this.hosts.showHost(ctx, host);
  }

  getCapabilities(ctx: RequestContext, host: string): Promise<BackendCapabilities> {
    return this.hosts.getCapabilities(ctx, host);
  }

  // ---------------------------------------------------------------- quotas

  getQuotaSet(ctx: RequestContext, projectId: string, withUsage: boolean): Promise<Record<string, number | QuotaUsage>> {
    return this.quotas.getQuotaSet(ctx, projectId, withUsage);
  }

  getQuotaDefaults(ctx: RequestContext, projectId: string): Promise<Record<string, number>> {
    return this.quotas.getQuotaDefaults(ctx, projectId);
  }

  updateQuotaSet(ctx: RequestContext, projectId: string, values: Record<string, unknown>): Promise<Record<string, number>> {
    return this.quotas.updateQuotaSet(ctx, projectId, values);
  }

  deleteQuotaSet(ctx: RequestContext, projectId: string): Promise<void> {
    return this.quotas.deleteQuotaSet(ctx, projectId);
  }

  getQuotaClassSet(ctx: RequestContext, className: string): Promise<Record<string, number>> {
    return this.quotas.getQuotaClassSet(ctx, className);
  }

  updateQuotaClassSet(ctx: RequestContext, className: string, values: Record<string, unknown>): Promise<Record<string, number>> {
    return this.quotas.updateQuotaClassSet(ctx, className, values);
  }

  getLimits(ctx: RequestContext, requestedProject: string | null): Promise<{ limits: Record<string, number>; used: Record<string, number> | null }> {
    return this.quotas.getLimits(ctx, requestedProject);
  }

  // ---------------------------------------------------------------- pools

  getPools(ctx: RequestContext, filters: { name?: string }): Promise<PoolRecord[]> {
    return this.services.getPools(ctx, filters);
  }

  // ---------------------------------------------------------------- volume transfers

  createTransfer(ctx: RequestContext, req: { volumeId: string; name: string | null; noSnapshots: boolean }): Promise<CreatedTransfer> {
    return this.transfers.createTransfer(ctx, req);
  }

  getTransfer(ctx: RequestContext, id: string): Promise<TransferRecord> {
    return this.transfers.getTransfer(ctx, id);
  }

  listTransfers(ctx: RequestContext, query: TransferListQuery): Promise<TransferRecord[]> {
    return this.transfers.listTransfers(ctx, query);
  }

  deleteTransfer(ctx: RequestContext, id: string): Promise<void> {
    return this.transfers.deleteTransfer(ctx, id);
  }

  acceptTransfer(ctx: RequestContext, id: string, authKey: string): Promise<TransferRecord> {
    return this.transfers.acceptTransfer(ctx, id, authKey);
  }

  // ---------------------------------------------------------------- manage existing

  listManageable(ctx: RequestContext, kind: BackendKind, query: ManageableQuery): Promise<ManageableEntry[]> {
    return this.manage.listManageable(ctx, kind, query);
  }

  manageVolume(ctx: RequestContext, req: ManageVolumeRequest): Promise<VolumeRecord> {
    return this.manage.manageVolume(ctx, req);
  }

  unmanageVolume(ctx: RequestContext, id: string): Promise<void> {
    return this.manage.unmanageVolume(ctx, id);
  }

  manageSnapshot(ctx: RequestContext, req: ManageSnapshotRequest): Promise<SnapshotRecord> {
    return this.manage.manageSnapshot(ctx, req);
  }

  unmanageSnapshot(ctx: RequestContext, id: string): Promise<void> {
    return this.manage.unmanageSnapshot(ctx, id);
  }

  // ---------------------------------------------------------------- generic volume groups

  createGroupType(ctx: RequestContext, req: GroupTypeRequest): Promise<GroupTypeRecord> {
    return this.groupTypes.createGroupType(ctx, req);
  }

  listGroupTypes(ctx: RequestContext, query: ListQuery, isPublic: boolean | null): Promise<GroupTypeRecord[]> {
    return this.groupTypes.listGroupTypes(ctx, query, isPublic);
  }

  getGroupType(ctx: RequestContext, id: string): Promise<GroupTypeRecord> {
    return this.groupTypes.getGroupType(ctx, id);
  }

  groupTypeNamed(ctx: RequestContext, name: string): Promise<GroupTypeRecord | null> {
    return this.groupTypes.groupTypeNamed(ctx, name);
  }

  updateGroupType(ctx: RequestContext, id: string, patch: GroupTypePatch): Promise<GroupTypeRecord> {
    return this.groupTypes.updateGroupType(ctx, id, patch);
  }

  deleteGroupType(ctx: RequestContext, id: string): Promise<void> {
    return this.groupTypes.deleteGroupType(ctx, id);
  }

  getGroupSpecs(ctx: RequestContext, typeId: string, key?: string): Promise<Record<string, string | null>> {
    return this.groupTypes.getGroupSpecs(ctx, typeId, key);
  }

  setGroupSpecs(ctx: RequestContext, typeId: string, specs: Record<string, string | null>, how: 'create' | 'update'): Promise<void> {
    return this.groupTypes.setGroupSpecs(ctx, typeId, specs, how);
  }

  deleteGroupSpec(ctx: RequestContext, typeId: string, key: string): Promise<void> {
    return this.groupTypes.deleteGroupSpec(ctx, typeId, key);
  }

  createGroup(ctx: RequestContext, req: CreateGroupRequest): Promise<GroupRecord> {
    return this.groups.createGroup(ctx, req);
  }

  createGroupFromSource(ctx: RequestContext, req: CreateGroupFromSourceRequest): Promise<GroupRecord> {
    return this.groups.createGroupFromSource(ctx, req);
  }

  getGroup(ctx: RequestContext, id: string): Promise<GroupRecord> {
    return this.groups.getGroup(ctx, id);
  }

  listGroups(ctx: RequestContext, query: ListQuery): Promise<GroupRecord[]> {
    return this.groups.listGroups(ctx, query);
  }

  updateGroup(ctx: RequestContext, id: string, req: UpdateGroupRequest): Promise<void> {
    return this.groups.updateGroup(ctx, id, req);
  }

  deleteGroup(ctx: RequestContext, id: string, deleteVolumes: boolean): Promise<void> {
    return this.groups.deleteGroup(ctx, id, deleteVolumes);
  }

  resetGroupStatus(ctx: RequestContext, id: string, status: string): Promise<void> {
    return this.groups.resetGroupStatus(ctx, id, status);
  }

  createGroupSnapshot(ctx: RequestContext, req: { groupId: string; name?: string | null; description?: string | null }): Promise<GroupSnapshotRecord> {
    return this.groupSnapshots.createGroupSnapshot(ctx, req);
  }

  getGroupSnapshot(ctx: RequestContext, id: string): Promise<GroupSnapshotRecord> {
    return this.groupSnapshots.getGroupSnapshot(ctx, id);
  }

  listGroupSnapshots(ctx: RequestContext, query: ListQuery): Promise<GroupSnapshotRecord[]> {
    return this.groupSnapshots.listGroupSnapshots(ctx, query);
  }

  deleteGroupSnapshot(ctx: RequestContext, id: string): Promise<void> {
    return this.groupSnapshots.deleteGroupSnapshot(ctx, id);
  }

  resetGroupSnapshotStatus(ctx: RequestContext, id: string, status: string): Promise<void> {
    return this.groupSnapshots.resetGroupSnapshotStatus(ctx, id, status);
  }

  // ---------------------------------------------------------------- user messages

  listMessages(ctx: RequestContext, query: ListQuery): Promise<MessageRecord[]> {
    return this.messages.listMessages(ctx, query);
  }

  getMessage(ctx: RequestContext, id: string): Promise<MessageRecord> {
    return this.messages.getMessage(ctx, id);
  }

  deleteMessage(ctx: RequestContext, id: string): Promise<void> {
    return this.messages.deleteMessage(ctx, id);
  }
}
