import type { VolumeTypeRecord } from '../../volumes/types.js';

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
