import type { DefaultTypeRecord, EncryptionRecord, TypeAccessRecord } from '../../volumes/type-management.js';
import type { VolumeTypeRecord } from '../../volumes/types.js';
import { naiveUtc, naiveUtcOrNull } from './format.js';

/** What the caller's policy lets a type view show beyond the base fields. */
export interface TypeViewShows {
  /** volume_extension:access_types_qos_specs_id */
  qosSpecsId: boolean;
  /** volume_extension:volume_type_access */
  access: boolean;
}

/** Cinder's v3 type view (list and show). */
export function volumeTypeView(type: VolumeTypeRecord, shows: TypeViewShows) {
  return {
    id: type.id,
    name: type.name,
    is_public: type.isPublic,
    description: type.description,
    extra_specs: type.extraSpecs,
    ...(shows.qosSpecsId ? { qos_specs_id: type.qosSpecsId } : {}),
    ...(shows.access ? { 'os-volume-type-access:is_public': type.isPublic } : {}),
  };
}

/**
 * The view types_manage answers create with: Cinder renders it with the older view builder,
 * which has no qos_specs_id.
 */
export function volumeTypeManageView(type: VolumeTypeRecord, shows: Pick<TypeViewShows, 'access'>) {
  return {
    id: type.id,
    name: type.name,
    is_public: type.isPublic,
    extra_specs: type.extraSpecs,
    description: type.description,
    ...(shows.access ? { 'os-volume-type-access:is_public': type.isPublic } : {}),
  };
}

/** The view type update answers with: the older view builder's, without the access field. */
export function volumeTypeUpdateView(type: VolumeTypeRecord) {
  return volumeTypeManageView(type, { access: false });
}

export function typeAccessView(entries: TypeAccessRecord[]) {
  return { volume_type_access: entries.map((e) => ({ volume_type_id: e.volumeTypeId, project_id: e.projectId })) };
}

/** Cinder answers with every column of its encryption row, soft-delete ones included; {} for a type without encryption. */
export function encryptionView(encryption: EncryptionRecord | null): Record<string, unknown> {
  if (!encryption) return {};
  return {
    volume_type_id: encryption.volumeTypeId,
    encryption_id: encryption.encryptionId,
    provider: encryption.provider,
    cipher: encryption.cipher,
    key_size: encryption.keySize,
    control_location: encryption.controlLocation,
    created_at: naiveUtc(encryption.createdAt),
    updated_at: naiveUtcOrNull(encryption.updatedAt),
    deleted: false,
    deleted_at: null,
  };
}

export function defaultTypeView(d: DefaultTypeRecord) {
  return { project_id: d.projectId, volume_type_id: d.volumeTypeId };
}
