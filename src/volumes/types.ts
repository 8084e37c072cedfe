// Domain records shared by the workflow (which produces them) and the API views
// (which render them). Field names are ours; the wire names live in api/views.

export const VOLUME_STATUSES = [
  'creating',
  'available',
  'deleting',
  'error',
  'error_deleting',
  'error_managing',
  'managing',
  'attaching',
  'in-use',
  'detaching',
  'maintenance',
  'restoring-backup',
  'error_restoring',
  'reserved',
  'awaiting-transfer',
  'backing-up',
  'error_backing-up',
  'error_extending',
  'downloading',
  'uploading',
  'retyping',
  'extending',
] as const;
export type VolumeStatus = (typeof VOLUME_STATUSES)[number];

export type VolumeAttachStatus = 'attached' | 'attaching' | 'detached' | 'reserved' | 'error_attaching' | 'error_detaching' | 'detaching';
export type AttachmentStatus = 'reserved' | 'attaching' | 'attached' | 'detaching' | 'detached' | 'error_attaching' | 'error_detaching';
/** 'null' is what Cinder stores before a mode is chosen, and what it shows on the wire. */
export type AttachMode = 'rw' | 'ro' | 'null';

/** One resource of a quota set shown with usage: Cinder's {limit, in_use, reserved}; nothing is ever held reserved here. */
export interface QuotaUsage {
  limit: number;
  in_use: number;
  reserved: number;
}

export interface RequestContext {
  userId: string;
  projectId: string;
  /** Role names of the caller's token, implied ones included (noauth: admin). */
  roles: readonly string[];
  /** Cinder's context_is_admin: the admin role, by default. */
  isAdmin: boolean;
  /** Keystone's is_admin_project, which Cinder's admin_api rule reads. */
  isAdminProject: boolean;
  /** The request carried a service token (X-Service-Token) with a service role: Nova-style callers. */
  isService: boolean;
  requestId: string;
}

export interface AttachmentRecord {
  id: string;
  volumeId: string;
  instanceUuid: string | null;
  attachedHost: string | null;
  mountpoint: string | null;
  attachTime: Date | null;
  detachTime: Date | null;
  attachStatus: AttachmentStatus;
  attachMode: AttachMode;
  connector: Record<string, unknown> | null;
  /** Flat connection info as the attachments API shows it, or null before a connector was given. */
  connectionInfo: Record<string, unknown> | null;
  createdAt: Date;
}

export interface VolumeRecord {
  id: string;
  projectId: string;
  userId: string;
  name: string | null;
  description: string | null;
  size: number;
  status: VolumeStatus;
  attachStatus: VolumeAttachStatus;
  migrationStatus: string | null;
  availabilityZone: string;
  volumeTypeId: string;
  volumeTypeName: string;
  multiattach: boolean;
  bootable: boolean;
  encrypted: boolean;
  metadata: Record<string, string>;
  /** readonly, attached_mode: merged into `metadata` by the views, as Cinder does. */
  adminMetadata: Record<string, string>;
  host: string | null;
  snapshotId: string | null;
  sourceVolid: string | null;
  groupId: string | null;
  consistencygroupId: string | null;
  replicationStatus: string | null;
  serviceUuid: string | null;
  sharedTargets: boolean;
  createdAt: Date;
  updatedAt: Date | null;
  /** Live attachments (not detached/deleted), oldest first. */
  attachments: AttachmentRecord[];
}

/** A user message (Cinder's messages API): what became of a request after it was accepted. */
export interface MessageRecord {
  id: string;
  projectId: string;
  eventId: string;
  /** "<action>:<detail>" in Cinder's fixed words. */
  userMessage: string;
  level: string;
  resourceType: string | null;
  resourceUuid: string | null;
  requestId: string;
  createdAt: Date;
  guaranteedUntil: Date;
}

/** A backend pool as the scheduler sees it (get_pools): host@backend#pool and what it last reported. */
export interface PoolRecord {
  name: string;
  capabilities: Record<string, unknown>;
}

export interface SnapshotRecord {
  id: string;
  volumeId: string;
  projectId: string;
  userId: string;
  status: string;
  progress: string | null;
  size: number;
  name: string | null;
  description: string | null;
  metadata: Record<string, string>;
  groupSnapshotId: string | null;
  createdAt: Date;
  updatedAt: Date | null;
}

export interface CreateSnapshotRequest {
  /** null: the caller sent none, which Cinder's schema lets through to a 404 for volume None. */
  volumeId: string | null;
  name?: string | null;
  description?: string | null;
  /** Allows a snapshot of an in-use volume. */
  force: boolean;
  metadata?: Record<string, string>;
}

/** One service in os-services: a storage host reporting in. */
export interface ServiceRecord {
  binary: string;
  host: string;
  zone: string;
  disabled: boolean;
  disabledReason: string | null;
  /** Its last heartbeat is recent enough (service_down_time). */
  up: boolean;
  updatedAt: Date;
  /** Frozen by an administrator: nothing on it is deleted, no snapshot taken. */
  frozen: boolean;
  /**
   * What the scheduler holds of the backend's state: its report's, while the service is up,
   * enabled, not frozen and has reported; otherwise the scheduler knows nothing of it.
   */
  backendState: string | null;
}

export interface VolumeTypeRecord {
  id: string;
  name: string;
  description: string | null;
  isPublic: boolean;
  extraSpecs: Record<string, string>;
  /** The QoS specs associated with the type, if any. */
  qosSpecsId: string | null;
}

export interface QosSpecsRecord {
  id: string;
  name: string;
  consumer: string;
  /** Cinder lets a key be set to null. */
  specs: Record<string, string | null>;
  createdAt: Date;
}

export interface QosAssociation {
  associationType: 'volume_type';
  id: string;
  name: string;
}

export interface SortKey {
  key: string;
  dir: 'asc' | 'desc';
}

export interface ListQuery {
  /** Exact-match filters, already mapped to our field names (name, status, bootable, size, availability_zone, metadata...). */
  filters: Record<string, unknown>;
  limit?: number;
  marker?: string;
  offset?: number;
  sort: SortKey[];
  allTenants: boolean;
}

export interface CreateVolumeRequest {
  size: number;
  name?: string | null;
  description?: string | null;
  volumeType?: string | null;
  metadata?: Record<string, string>;
  availabilityZone?: string | null;
  snapshotId?: string | null;
  sourceVolid?: string | null;
  /** The generic volume group the volume is made in (3.13). */
  groupId?: string | null;
}

export interface UpdateVolumeRequest {
  name?: string | null;
  description?: string | null;
  metadata?: Record<string, string>;
}

export type Connector = Record<string, unknown>;

export interface ConnectionInfo {
  driver_volume_type: string;
  data: Record<string, unknown>;
}

export interface LegacyAttachRequest {
  instanceUuid?: string | null;
  hostName?: string | null;
  mountpoint: string;
  mode: 'rw' | 'ro';
}

export interface CreateAttachmentRequest {
  volumeId: string;
  instanceUuid?: string | null;
  /** null or {} both mean "no connector yet". */
  connector?: Connector | null;
  mode?: AttachMode;
}

export interface ResetStatusRequest {
  status?: string;
  attachStatus?: string;
  migrationStatus?: string;
}
