import { BOOLEAN_SCHEMA } from '../validation.js';
import { description, metadataAllowsNull, name, uuid } from './common.js';

/** Cinder's parameter_types.cinder_host: host, host@backend or host@backend#pool. */
const cinderHost = { type: ['string', 'null'], minLength: 1, maxLength: 255, pattern: '^[a-zA-Z0-9-._#@:/+\\[\\]]*$' };

const manageVolumeProperties = {
  description,
  availability_zone: name,
  bootable: BOOLEAN_SCHEMA,
  volume_type: name,
  name,
  host: cinderHost,
  ref: { type: ['object', 'string'] },
  metadata: metadataAllowsNull,
};

function manageVolumeWith(properties: Record<string, unknown>) {
  return {
    type: 'object',
    properties: { volume: { type: 'object', properties, required: ['ref'], additionalProperties: false } },
    required: ['volume'],
    additionalProperties: false,
  };
}

/** Cinder's volume_manage.volume_manage_create. */
export const manageVolume = manageVolumeWith(manageVolumeProperties);
/** Cinder's volume_manage.volume_manage_create_v316: a cluster may stand for the host. */
export const manageVolumeV316 = manageVolumeWith({ ...manageVolumeProperties, cluster: { type: ['string', 'null'], minLength: 0, maxLength: 255 } });

/** Cinder's snapshot_manage.create. */
export const manageSnapshot = {
  type: 'object',
  properties: {
    snapshot: {
      type: 'object',
      properties: { description, metadata: metadataAllowsNull, name, volume_id: uuid, ref: { type: ['object', 'null', 'string'] } },
      required: ['ref', 'volume_id'],
      additionalProperties: false,
    },
  },
  required: ['snapshot'],
  additionalProperties: false,
};
