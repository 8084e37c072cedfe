import type { ColumnType, Generated, Insertable, Selectable, Updateable } from 'kysely';

// Column types are chosen so one query text works on both engines: timestamps are
// ISO-8601 strings with microseconds (they sort as text), booleans are 0/1 integers,
// JSON documents are text. Neither engine then needs a per-dialect type mapping.

export interface VolumesTable {
  id: string;
  project_id: string;
  user_id: string;
  display_name: string | null;
  display_description: string | null;
  size: number;
  status: string;
  attach_status: string;
  /** Status to return to after a transient one (extend of an attached volume). */
  previous_status: string | null;
  migration_status: string | null;
  availability_zone: string;
  volume_type_id: string;
  multiattach: number;
  bootable: number;
  encrypted: number;
  host: string | null;
  snapshot_id: string | null;
  source_volid: string | null;
  group_id: string | null;
  consistencygroup_id: string | null;
  replication_status: string | null;
  /** "<portal>[;<portal>],<tid> <iqn> <lun>", written by create_export before connection_info is returned. */
  provider_location: string | null;
  /** "CHAP <user> <password>"; reused by every later export of the volume. */
  provider_auth: string | null;
  created_at: string;
  updated_at: string | null;
  /** The size an extend in progress goes to; its gigabytes are already counted in the project's usage. */
  extending_to: number | null;
}

export interface VolumeAttachmentTable {
  id: string;
  volume_id: string;
  instance_uuid: string | null;
  attached_host: string | null;
  mountpoint: string | null;
  attach_time: string | null;
  detach_time: string | null;
  attach_status: string;
  attach_mode: string;
  connector: string | null;
  connection_info: string | null;
  created_at: string;
  updated_at: string | null;
  deleted: Generated<number>;
  deleted_at: string | null;
}

/**
 * Which initiators may reach a volume's target, and why. Each row is one grant made by
 * initialize_connection: attachment_id is the attachment it serves, or '' for a grant
 * made through the legacy action (which has no attachment yet). The target's access list
 * is the set of initiators with at least one row; the export lives while any row does.
 * Start-up recovery rebuilds exports from this table.
 */
export interface VolumeConnectionsTable {
  volume_id: string;
  initiator: string;
  attachment_id: string;
  read_only: number;
  connector: string;
  created_at: string;
}

export interface VolumeTypesTable {
  id: string;
  name: string;
  description: string | null;
  is_public: number;
  created_at: string;
  /** The QoS specs the type's volumes get, if any. */
  qos_specs_id: ColumnType<string | null, string | null | undefined, string | null>;
}

export interface KeyValueTable {
  key: string;
  value: string;
}

export interface VolumeKeyValueTable {
  volume_id: string;
  key: string;
  value: string;
}

export interface VolumeTypeExtraSpecsTable {
  volume_type_id: string;
  key: string;
  value: string;
}

export interface QosSpecsTable {
  id: string;
  name: string;
  /** front-end, back-end or both. */
  consumer: string;
  created_at: string;
  updated_at: string | null;
}

export interface QosSpecsKeysTable {
  qos_specs_id: string;
  key: string;
  /** Cinder lets a key be set to null. */
  value: string | null;
}

export interface ServicesTable {
  binary: string;
  host: string;
  availability_zone: string;
  disabled: Generated<number>;
  disabled_reason: string | null;
  created_at: string;
  /** The last heartbeat. */
  updated_at: string;
  /** JSON: the backend's capacity and features as of the last heartbeat; null when it could not be read. */
  capabilities: string | null;
  /** 1 while frozen: nothing on the host is deleted and no snapshot is taken. */
  frozen: Generated<number>;
}

/** Cinder's user messages: what went wrong with a request after it was accepted, for its project to read. */
export interface MessagesTable {
  id: string;
  project_id: string;
  request_id: string;
  resource_type: string | null;
  resource_uuid: string | null;
  /** VOLUME_<resource>_<action>_<detail>, as Cinder names events. */
  event_id: string;
  action_id: string;
  detail_id: string;
  message_level: string;
  created_at: string;
  /** Kept at least until then (Cinder's guaranteed_until). */
  expires_at: string;
}

export interface SnapshotsTable {
  id: string;
  volume_id: string;
  project_id: string;
  user_id: string;
  status: string;
  progress: string | null;
  volume_size: number;
  display_name: string | null;
  display_description: string | null;
  /** JSON object of string values. */
  metadata: string;
  created_at: string;
  updated_at: string | null;
  /** The group snapshot this snapshot was taken for, with its group's other volumes. */
  group_snapshot_id: string | null;
}

/** A pending offer of a volume to another project; salt and crypt_hash check the key that accepts it. */
export interface TransfersTable {
  id: string;
  volume_id: string;
  display_name: string | null;
  salt: string;
  crypt_hash: string;
  /** 1: the volume's snapshots stay with the project that offers it. */
  no_snapshots: number;
  source_project_id: string;
  created_at: string;
}

export interface BackupsTable {
  id: string;
  volume_id: string;
  snapshot_id: string | null;
  project_id: string;
  user_id: string;
  status: string;
  fail_reason: string | null;
  display_name: string | null;
  display_description: string | null;
  availability_zone: string | null;
  container: string | null;
  /** The store that holds it (Cinder's backup service name). */
  service: string | null;
  /** The prefix naming its objects in the store. */
  service_metadata: string | null;
  size: number;
  object_count: number;
  parent_id: string | null;
  num_dependent_backups: number;
  restore_volume_id: string | null;
  /** JSON object of string values. */
  metadata: string;
  /** JSON: the volume's metadata and bootable flag when it was backed up. */
  volume_meta: string;
  data_timestamp: string | null;
  created_at: string;
  updated_at: string | null;
}

/** A limit on one resource: a project's own (quotas) or a quota class's. -1 is no limit. */
export interface QuotasTable {
  project_id: string;
  resource: string;
  hard_limit: number;
  created_at: string;
  updated_at: string | null;
}

export interface QuotaClassesTable {
  class_name: string;
  resource: string;
  hard_limit: number;
  created_at: string;
  updated_at: string | null;
}

export interface QuotaUsagesTable {
  project_id: string;
  resource: string;
  in_use: number;
}

export interface GroupTypesTable {
  id: string;
  name: string;
  description: string | null;
  is_public: number;
  created_at: string;
  updated_at: string | null;
}

export interface GroupTypeSpecsTable {
  group_type_id: string;
  key: string;
  value: string | null;
}

export interface GroupsTable {
  id: string;
  project_id: string;
  user_id: string;
  name: string | null;
  description: string | null;
  status: string;
  availability_zone: string;
  group_type_id: string;
  /** What the group was made from, if it was (create-from-src). */
  group_snapshot_id: string | null;
  source_group_id: string | null;
  created_at: string;
  updated_at: string | null;
}

/** The volume types a group may hold. */
export interface GroupVolumeTypesTable {
  group_id: string;
  volume_type_id: string;
}

export interface GroupSnapshotsTable {
  id: string;
  group_id: string;
  project_id: string;
  user_id: string;
  name: string | null;
  description: string | null;
  status: string;
  group_type_id: string;
  created_at: string;
  updated_at: string | null;
}

/** A project that may use a private volume type. */
export interface VolumeTypeProjectsTable {
  volume_type_id: string;
  project_id: string;
  created_at: string;
}

/** A volume type's encryption, as Cinder's encryption table holds it. */
export interface VolumeTypeEncryptionTable {
  volume_type_id: string;
  encryption_id: string;
  provider: string | null;
  cipher: string | null;
  key_size: number | null;
  control_location: string | null;
  created_at: string;
  updated_at: string | null;
}

/** The type a project's volumes get when their create names none. */
export interface DefaultVolumeTypesTable {
  project_id: string;
  volume_type_id: string;
  created_at: string;
}

export interface Database {
  volumes: VolumesTable;
  volume_attachment: VolumeAttachmentTable;
  volume_connections: VolumeConnectionsTable;
  volume_types: VolumeTypesTable;
  volume_type_extra_specs: VolumeTypeExtraSpecsTable;
  volume_metadata: VolumeKeyValueTable;
  volume_admin_metadata: VolumeKeyValueTable;
  service_state: KeyValueTable;
  services: ServicesTable;
  snapshots: SnapshotsTable;
  backups: BackupsTable;
  quotas: QuotasTable;
  quota_classes: QuotaClassesTable;
  quota_usages: QuotaUsagesTable;
  messages: MessagesTable;
  group_types: GroupTypesTable;
  group_type_specs: GroupTypeSpecsTable;
  groups: GroupsTable;
  group_volume_types: GroupVolumeTypesTable;
  group_snapshots: GroupSnapshotsTable;
  volume_type_projects: VolumeTypeProjectsTable;
  volume_type_encryption: VolumeTypeEncryptionTable;
  default_volume_types: DefaultVolumeTypesTable;
  qos_specs: QosSpecsTable;
  qos_specs_keys: QosSpecsKeysTable;
  transfers: TransfersTable;
}

export type VolumeRow = Selectable<VolumesTable>;
export type NewVolumeRow = Insertable<VolumesTable>;

/** The columns of a new volume that nothing has touched yet: no snapshot, group, replication, export or earlier state. */
export const UNTOUCHED_VOLUME_COLUMNS = {
  previous_status: null,
  migration_status: null,
  bootable: 0,
  encrypted: 0,
  snapshot_id: null,
  source_volid: null,
  group_id: null,
  consistencygroup_id: null,
  replication_status: null,
  provider_location: null,
  provider_auth: null,
  updated_at: null,
  extending_to: null,
} as const satisfies Partial<NewVolumeRow>;
export type VolumeUpdate = Updateable<VolumesTable>;
export type AttachmentRow = Selectable<VolumeAttachmentTable>;
export type ConnectionRow = Selectable<VolumeConnectionsTable>;
export type VolumeTypeRow = Selectable<VolumeTypesTable>;
export type SnapshotRow = Selectable<SnapshotsTable>;
export type BackupRow = Selectable<BackupsTable>;
export type MessageRow = Selectable<MessagesTable>;
export type GroupTypeRow = Selectable<GroupTypesTable>;
export type GroupRow = Selectable<GroupsTable>;
export type GroupSnapshotRow = Selectable<GroupSnapshotsTable>;
export type EncryptionRow = Selectable<VolumeTypeEncryptionTable>;
export type TransferRow = Selectable<TransfersTable>;

let lastMicros = 0;
// Date and time to the second, formatted once per second rather than at every write.
let formattedSecond = -1;
let secondText = '';

/**
 * Current time in the stored form: naive UTC with six fractional digits, as Cinder
 * renders it. Within a process the values strictly increase, so "newest first" is the
 * order things happened in even when two rows are written in the same millisecond.
 */
export function nowTimestamp(): string {
  let micros = Date.now() * 1000;
  if (micros <= lastMicros) micros = lastMicros + 1;
  lastMicros = micros;
  const second = Math.floor(micros / 1_000_000);
  if (second !== formattedSecond) {
    formattedSecond = second;
    secondText = new Date(second * 1000).toISOString().slice(0, 19);
  }
  return `${secondText}.${String(micros % 1_000_000).padStart(6, '0')}`;
}

/** A moment (ms since the epoch) in the stored form, for comparing with stored timestamps. */
export function formatTimestamp(ms: number): string {
  return `${new Date(ms).toISOString().slice(0, 23)}000`;
}

export function parseTimestamp(value: string | null): Date | null {
  return value === null ? null : new Date(`${value.slice(0, 23)}Z`);
}
