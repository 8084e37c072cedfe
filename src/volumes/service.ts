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
import type { BackupExport, BackupRecord, CreateBackupRequest, RestoreRecord, UpdateBackupRequest } from './backup-types.js';
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
import type { TypeManagement } from './type-management.js';
import type { BackendCapabilities, HostRecord, HostUsage } from './hosts-admin.js';
import type { CreatedTransfer, TransferListQuery, TransferRecord } from './transfers.js';
import type { LogLevelRequest, ServiceLogLevels } from './log-levels-admin.js';
import type { BackendKind, ManageableEntry, ManageableQuery, ManageSnapshotRequest, ManageVolumeRequest } from './manage.js';

/**
 * Everything the API layer may ask of the storage service. Methods throw
 * CinderError (src/errors.ts) with Cinder's message text; they never know about
 * HTTP. Visibility: a non-admin context only sees its own project's volumes
 * (others are reported as not found).
 */
export interface BlockStorage extends TypeManagement {
  // volumes
  createVolume(ctx: RequestContext, req: CreateVolumeRequest): Promise<VolumeRecord>;
  getVolume(ctx: RequestContext, id: string): Promise<VolumeRecord>;
  listVolumes(ctx: RequestContext, query: ListQuery): Promise<{ volumes: VolumeRecord[]; count: number }>;
  updateVolume(ctx: RequestContext, id: string, patch: UpdateVolumeRequest): Promise<VolumeRecord>;
  /** adminAction: the os-force_delete action, which Cinder checks against its admin-action rule before the delete's own. */
  deleteVolume(ctx: RequestContext, id: string, opts: { force: boolean; cascade: boolean; adminAction?: boolean }): Promise<void>;
  /** allowAttached: the caller negotiated microversion >= 3.42. */
  extendVolume(ctx: RequestContext, id: string, newSize: number, opts: { allowAttached: boolean }): Promise<void>;
  setBootable(ctx: RequestContext, id: string, bootable: boolean): Promise<void>;
  updateReadonlyFlag(ctx: RequestContext, id: string, readonly: boolean): Promise<void>;
  getMetadata(ctx: RequestContext, id: string): Promise<Record<string, string>>;
  /** merge: POST (adds keys); replace: PUT of the whole set; item: PUT of one key. */
  setMetadata(ctx: RequestContext, id: string, metadata: Record<string, string>, how: 'merge' | 'replace' | 'item'): Promise<Record<string, string>>;
  deleteMetadataKey(ctx: RequestContext, id: string, key: string): Promise<void>;

  // legacy attach/detach actions (thin adapters over the attachment state machine)
  reserve(ctx: RequestContext, id: string): Promise<void>;
  unreserve(ctx: RequestContext, id: string): Promise<void>;
  initializeConnection(ctx: RequestContext, id: string, connector: Connector): Promise<ConnectionInfo>;
  attach(ctx: RequestContext, id: string, req: LegacyAttachRequest): Promise<void>;
  beginDetaching(ctx: RequestContext, id: string): Promise<void>;
  rollDetaching(ctx: RequestContext, id: string): Promise<void>;
  terminateConnection(ctx: RequestContext, id: string, connector: Connector | null, force: boolean): Promise<void>;
  detach(ctx: RequestContext, id: string, attachmentId: string | null): Promise<void>;
  forceDetach(ctx: RequestContext, id: string, connector: Connector | null, attachmentId: string | null): Promise<void>;
  resetStatus(ctx: RequestContext, id: string, req: ResetStatusRequest): Promise<void>;

  // attachments API
  createAttachment(ctx: RequestContext, req: CreateAttachmentRequest): Promise<AttachmentRecord>;
  updateAttachment(ctx: RequestContext, id: string, connector: Connector): Promise<AttachmentRecord>;
  completeAttachment(ctx: RequestContext, id: string): Promise<void>;
  /** Returns the volume's remaining live attachments. */
  deleteAttachment(ctx: RequestContext, id: string): Promise<AttachmentRecord[]>;
  getAttachment(ctx: RequestContext, id: string): Promise<AttachmentRecord>;
  listAttachments(ctx: RequestContext, query: ListQuery): Promise<{ attachments: AttachmentRecord[]; count: number }>;

  // volume types
  createVolumeType(
    ctx: RequestContext,
    req: { name: string; description?: string | null; isPublic?: boolean; extraSpecs?: Record<string, string> },
  ): Promise<VolumeTypeRecord>;
  /** isPublic (administrators only): false for the private types, null for all; else the public ones and those given to the project. */
  listVolumeTypes(ctx: RequestContext, filter?: { isPublic?: boolean | null }): Promise<VolumeTypeRecord[]>;
  /** By id or by name. */
  getVolumeType(ctx: RequestContext, idOrName: string): Promise<VolumeTypeRecord>;
  deleteVolumeType(ctx: RequestContext, id: string): Promise<void>;
  /** A type's extra specs (or the one named `key`) as the caller may see them. */
  getExtraSpecs(ctx: RequestContext, typeId: string, key?: string): Promise<Record<string, string>>;
  /** create: POST of a set of specs; update: PUT of one. */
  setExtraSpecs(ctx: RequestContext, typeId: string, specs: Record<string, string>, how: 'create' | 'update'): Promise<Record<string, string>>;
  deleteExtraSpec(ctx: RequestContext, typeId: string, key: string): Promise<void>;

  // QoS specs (administrators only)
  /** `specs` may carry the consumer; the rest are the keys. */
  createQosSpecs(ctx: RequestContext, name: string, specs: Record<string, unknown>): Promise<QosSpecsRecord>;
  listQosSpecs(ctx: RequestContext, query: ListQuery): Promise<QosSpecsRecord[]>;
  getQosSpecs(ctx: RequestContext, id: string): Promise<QosSpecsRecord>;
  setQosKeys(ctx: RequestContext, id: string, specs: Record<string, string | null>): Promise<void>;
  deleteQosKeys(ctx: RequestContext, id: string, keys: string[]): Promise<void>;
  /** force: the types using the specs lose them; without it such specs are refused. */
  deleteQosSpecs(ctx: RequestContext, id: string, force: boolean): Promise<void>;
  getQosAssociations(ctx: RequestContext, id: string): Promise<QosAssociation[]>;
  associateQosSpecs(ctx: RequestContext, id: string, typeId: string | undefined): Promise<void>;
  disassociateQosSpecs(ctx: RequestContext, id: string, typeId: string | undefined): Promise<void>;
  disassociateAllQosSpecs(ctx: RequestContext, id: string): Promise<void>;

  // snapshots
  createSnapshot(ctx: RequestContext, req: CreateSnapshotRequest): Promise<SnapshotRecord>;
  getSnapshot(ctx: RequestContext, id: string): Promise<SnapshotRecord>;
  /** count: every match, before marker, offset and limit. */
  listSnapshots(ctx: RequestContext, query: ListQuery): Promise<{ snapshots: SnapshotRecord[]; count: number }>;
  updateSnapshot(ctx: RequestContext, id: string, patch: { name?: string | null; description?: string | null }): Promise<SnapshotRecord>;
  /** force: the os-force_delete action, from any status, under its own rule as well as the delete's. */
  deleteSnapshot(ctx: RequestContext, id: string, opts?: { force: boolean }): Promise<void>;
  /** os-reset_status: an administrator sets any snapshot status. */
  resetSnapshotStatus(ctx: RequestContext, id: string, status: string): Promise<void>;
  /** os-update_snapshot_status: a creating or deleting snapshot reports where it is (progress like "80%"). */
  updateSnapshotStatus(ctx: RequestContext, id: string, req: { status: string; progress?: string }): Promise<void>;
  getSnapshotMetadata(ctx: RequestContext, id: string): Promise<Record<string, string>>;
  /** merge: POST and PUT of one key (adds or changes keys); replace: PUT of the whole set. Values are checked here, as Cinder does. */
  setSnapshotMetadata(ctx: RequestContext, id: string, metadata: Record<string, unknown>, how: 'merge' | 'replace'): Promise<Record<string, string>>;
  deleteSnapshotMetadataKey(ctx: RequestContext, id: string, key: string): Promise<void>;
  /** The revert action (3.40): the volume's data becomes its latest snapshot's again; snapshotId must name that one. */
  revertToSnapshot(ctx: RequestContext, volumeId: string, snapshotId: string | null): Promise<void>;

  // backups
  createBackup(ctx: RequestContext, req: CreateBackupRequest): Promise<BackupRecord>;
  getBackup(ctx: RequestContext, id: string): Promise<BackupRecord>;
  listBackups(ctx: RequestContext, query: ListQuery): Promise<{ backups: BackupRecord[]; count: number }>;
  updateBackup(ctx: RequestContext, id: string, patch: UpdateBackupRequest): Promise<BackupRecord>;
  /** force: the os-force_delete action. */
  deleteBackup(ctx: RequestContext, id: string, opts: { force: boolean }): Promise<void>;
  /** Into volumeId, or a new volume (named `name`) when none is given. */
  restoreBackup(ctx: RequestContext, id: string, req: { volumeId?: string | null; name?: string | null }): Promise<RestoreRecord>;
  exportBackupRecord(ctx: RequestContext, id: string): Promise<BackupExport>;
  importBackupRecord(ctx: RequestContext, req: BackupExport): Promise<BackupRecord>;
  resetBackupStatus(ctx: RequestContext, id: string, status: string): Promise<void>;

  // quotas: a project's limits by resource name (volumes, gigabytes, volumes_<type>, ...)
  getQuotaSet(ctx: RequestContext, projectId: string, withUsage: boolean): Promise<Record<string, number | QuotaUsage>>;
  getQuotaDefaults(ctx: RequestContext, projectId: string): Promise<Record<string, number>>;
  updateQuotaSet(ctx: RequestContext, projectId: string, values: Record<string, unknown>): Promise<Record<string, number>>;
  /** The project's own limits go; it has the defaults again. */
  deleteQuotaSet(ctx: RequestContext, projectId: string): Promise<void>;
  getQuotaClassSet(ctx: RequestContext, className: string): Promise<Record<string, number>>;
  updateQuotaClassSet(ctx: RequestContext, className: string, values: Record<string, unknown>): Promise<Record<string, number>>;
  /** requestedProject: an administrator's ?project_id (microversion >= 3.39), ignored for others. */
  getLimits(ctx: RequestContext, requestedProject: string | null): Promise<{ limits: Record<string, number>; used: Record<string, number> | null }>;

  // services (administrators only)
  listServices(ctx: RequestContext, filters: { host?: string; binary?: string }): Promise<ServiceRecord[]>;
  /** A disabled storage host gets no new volumes; the ones it has are served as before. */
  setServiceDisabled(ctx: RequestContext, req: { host: string; binary: string; disabled: boolean; reason?: string }): Promise<void>;
  /** Freezes the storage host a name matches: out of scheduling, and nothing on it deleted or snapshotted. */
  freezeHost(ctx: RequestContext, host: string): Promise<void>;
  thawHost(ctx: RequestContext, host: string): Promise<void>;
  /** The log levels in force in the processes a request names (3.32 get-log). */
  getLogLevels(ctx: RequestContext, req: LogLevelRequest): Promise<ServiceLogLevels[]>;
  /** Changes them, at once, in every process the request names (3.32 set-log). */
  setLogLevels(ctx: RequestContext, req: LogLevelRequest & { level?: string | null }): Promise<void>;
  /** The pools new volumes may go to, with the capacity each last reported (administrators only). */
  getPools(ctx: RequestContext, filters: { name?: string }): Promise<PoolRecord[]>;

  // generic volume groups: group types (administrators manage them), groups, group snapshots
  createGroupType(ctx: RequestContext, req: GroupTypeRequest): Promise<GroupTypeRecord>;
  /** isPublic null: public and private alike (administrators only; others see the public ones). */
  listGroupTypes(ctx: RequestContext, query: ListQuery, isPublic: boolean | null): Promise<GroupTypeRecord[]>;
  getGroupType(ctx: RequestContext, id: string): Promise<GroupTypeRecord>;
  /** The type of that name, or null: what `GET /group_types/default` shows of the configured default. */
  groupTypeNamed(ctx: RequestContext, name: string): Promise<GroupTypeRecord | null>;
  updateGroupType(ctx: RequestContext, id: string, patch: GroupTypePatch): Promise<GroupTypeRecord>;
  deleteGroupType(ctx: RequestContext, id: string): Promise<void>;
  /** A type's group specs, or the one named `key`. */
  getGroupSpecs(ctx: RequestContext, typeId: string, key?: string): Promise<Record<string, string | null>>;
  /** create: POST of a set of specs; update: PUT of one. */
  setGroupSpecs(ctx: RequestContext, typeId: string, specs: Record<string, string | null>, how: 'create' | 'update'): Promise<void>;
  deleteGroupSpec(ctx: RequestContext, typeId: string, key: string): Promise<void>;
  createGroup(ctx: RequestContext, req: CreateGroupRequest): Promise<GroupRecord>;
  createGroupFromSource(ctx: RequestContext, req: CreateGroupFromSourceRequest): Promise<GroupRecord>;
  getGroup(ctx: RequestContext, id: string): Promise<GroupRecord>;
  /** Filters are the wire names of the groups table's columns. */
  listGroups(ctx: RequestContext, query: ListQuery): Promise<GroupRecord[]>;
  updateGroup(ctx: RequestContext, id: string, req: UpdateGroupRequest): Promise<void>;
  deleteGroup(ctx: RequestContext, id: string, deleteVolumes: boolean): Promise<void>;
  resetGroupStatus(ctx: RequestContext, id: string, status: string): Promise<void>;
  createGroupSnapshot(ctx: RequestContext, req: { groupId: string; name?: string | null; description?: string | null }): Promise<GroupSnapshotRecord>;
  getGroupSnapshot(ctx: RequestContext, id: string): Promise<GroupSnapshotRecord>;
  listGroupSnapshots(ctx: RequestContext, query: ListQuery): Promise<GroupSnapshotRecord[]>;
  deleteGroupSnapshot(ctx: RequestContext, id: string): Promise<void>;
  resetGroupSnapshotStatus(ctx: RequestContext, id: string, status: string): Promise<void>;
  // hosts and backends (administrators only)
  /** The enabled services (os-hosts), in `zone` when given. */
  listHosts(ctx: RequestContext, zone: string | undefined): Promise<HostRecord[]>;
  /** What is on a storage host, in total and by project. */
  showHost(ctx: RequestContext, host: string): Promise<HostUsage[]>;
  /** What a backend reported it can do. */
  getCapabilities(ctx: RequestContext, host: string): Promise<BackendCapabilities>;
  // volume transfers
  createTransfer(ctx: RequestContext, req: { volumeId: string; name: string | null; noSnapshots: boolean }): Promise<CreatedTransfer>;
  getTransfer(ctx: RequestContext, id: string): Promise<TransferRecord>;
  listTransfers(ctx: RequestContext, query: TransferListQuery): Promise<TransferRecord[]>;
  /** The offer goes; the volume is available to its project again. */
  deleteTransfer(ctx: RequestContext, id: string): Promise<void>;
  /** The volume (and its snapshots unless the offer left them out) moves to the caller's project. */
  acceptTransfer(ctx: RequestContext, id: string, authKey: string): Promise<TransferRecord>;

  // managing what a backend already holds (administrators only)
  /** The backend's volumes or snapshots, each saying whether it is already managed. */
  listManageable(ctx: RequestContext, kind: BackendKind, query: ManageableQuery): Promise<ManageableEntry[]>;
  /** A new volume (status managing) over an existing backend object, adopted in the background. */
  manageVolume(ctx: RequestContext, req: ManageVolumeRequest): Promise<VolumeRecord>;
  /** As a delete, but the backend object stays. */
  unmanageVolume(ctx: RequestContext, id: string): Promise<void>;
  manageSnapshot(ctx: RequestContext, req: ManageSnapshotRequest): Promise<SnapshotRecord>;
  unmanageSnapshot(ctx: RequestContext, id: string): Promise<void>;

  // user messages
  /** Filters are the wire names of MESSAGE_FILTERS. */
  listMessages(ctx: RequestContext, query: ListQuery): Promise<MessageRecord[]>;
  getMessage(ctx: RequestContext, id: string): Promise<MessageRecord>;
  deleteMessage(ctx: RequestContext, id: string): Promise<void>;
}
