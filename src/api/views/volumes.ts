import type { AttachmentRecord, RequestContext, VolumeRecord, VolumeStatus } from '../../volumes/types.js';
import type { ApiVersion } from '../microversion.js';
import type { Urls } from '../links.js';
import { naiveUtc, naiveUtcOrNull } from './format.js';

export interface ViewEnv {
  ctx: RequestContext;
  version: ApiVersion;
  urls: Urls;
  /** The extended attributes the policy lets this caller see (Cinder's volume_*_attribute rules). */
  shows: { host: boolean; tenant: boolean; migration: boolean };
}

// Internal statuses Cinder never shows as such.
const SHOWN_STATUS: Partial<Record<string, string>> = {
  managing: 'creating',
  error_managing: 'error',
  error_managing_deleting: 'deleting',
};

export function shownStatus(status: VolumeStatus | string): string {
  return SHOWN_STATUS[status] ?? status;
}

/** Admin metadata Cinder merges into the user-visible metadata. */
const VISIBLE_ADMIN_METADATA = ['readonly', 'attached_mode'];

export function visibleMetadata(volume: VolumeRecord): Record<string, string> {
  const merged = { ...volume.metadata };
  for (const key of VISIBLE_ADMIN_METADATA) {
    const value = volume.adminMetadata[key];
    if (value !== undefined) merged[key] = value;
  }
  return merged;
}

function attachmentEntry(volume: VolumeRecord, attachment: AttachmentRecord, isAdmin: boolean) {
  return {
    // The legacy view's id is the volume's, not the attachment's.
    id: volume.id,
    attachment_id: attachment.id,
    volume_id: volume.id,
    server_id: attachment.instanceUuid,
    host_name: isAdmin ? attachment.attachedHost : null,
    device: attachment.mountpoint,
    attached_at: naiveUtcOrNull(attachment.attachTime),
  };
}

export function volumeSummary(volume: VolumeRecord, env: ViewEnv) {
  return { id: volume.id, name: volume.name, links: env.urls.links(`volumes/${volume.id}`) };
}

/**
 * The volume as show and the detail list give it; `extended` false leaves out the extended
 * attributes (tenant, host, migration), which Cinder adds to show and detail only.
 */
export function volumeDetail(volume: VolumeRecord, env: ViewEnv, extended = true): Record<string, unknown> {
  const { ctx, version, shows } = env;
  const view: Record<string, unknown> = {
    id: volume.id,
    status: shownStatus(volume.status),
    size: volume.size,
    availability_zone: volume.availabilityZone,
    created_at: naiveUtc(volume.createdAt),
    updated_at: naiveUtcOrNull(volume.updatedAt),
    name: volume.name,
    description: volume.description,
    volume_type: volume.volumeTypeName,
    snapshot_id: volume.snapshotId,
    source_volid: volume.sourceVolid,
    metadata: visibleMetadata(volume),
    links: env.urls.links(`volumes/${volume.id}`),
    user_id: volume.userId,
    bootable: String(volume.bootable),
    encrypted: volume.encrypted,
    replication_status: volume.replicationStatus,
    consistencygroup_id: volume.consistencygroupId,
    multiattach: volume.multiattach,
    // Reserved or still-attaching attachments are invisible here, as in Cinder.
    attachments: volume.attachments
      .filter((a) => a.attachStatus === 'attached')
      .map((a) => attachmentEntry(volume, a, ctx.isAdmin)),
  };
  if (ctx.isAdmin) view.migration_status = volume.migrationStatus;
  if (version.atLeast('3.13')) view.group_id = volume.groupId;
  // This service never manages volumes of another backend, so there is no provider id or cluster.
  if (version.atLeast('3.21') && ctx.isAdmin) view.provider_id = null;
  if (version.atLeast('3.48')) {
    view.shared_targets = volume.sharedTargets;
    view.service_uuid = volume.serviceUuid;
  }
  if (version.atLeast('3.61') && ctx.isAdmin) view.cluster_name = null;
  if (version.atLeast('3.63')) view.volume_type_id = volume.volumeTypeId;
  // 3.64's encryption_key_id appears only for encrypted volumes, which this service does not create.
  if (version.atLeast('3.65')) view.consumes_quota = true;
  if (!extended) return view;
  if (shows.tenant) view['os-vol-tenant-attr:tenant_id'] = volume.projectId;
  if (shows.host) view['os-vol-host-attr:host'] = volume.host;
  if (shows.migration) {
    view['os-vol-mig-status-attr:migstat'] = volume.migrationStatus;
    view['os-vol-mig-status-attr:name_id'] = null;
  }
  return view;
}
