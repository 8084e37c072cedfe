import type { VolumeTypeRecord } from '../../volumes/types.js';

export function volumeTypeView(type: VolumeTypeRecord) {
  return {
    id: type.id,
    name: type.name,
    is_public: type.isPublic,
    description: type.description,
    extra_specs: type.extraSpecs,
    // QoS specs are not implemented, so no type has any.
    qos_specs_id: null,
    'os-volume-type-access:is_public': type.isPublic,
  };
}
