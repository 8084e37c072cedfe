import { description, metadata, metadataAllowsNull, name, optionalUuid, volumeSizeAllowsNull } from './common.js';

const createProperties = {
  name,
  description,
  display_name: name,
  display_description: description,
  size: volumeSizeAllowsNull,
  availability_zone: { type: ['string', 'null'], minLength: 1, maxLength: 255 },
  multiattach: { type: ['boolean', 'string', 'null'] },
  source_volid: optionalUuid,
  volume_type: { type: ['string', 'null'], minLength: 0, maxLength: 255 },
  metadata: metadataAllowsNull,
  snapshot_id: optionalUuid,
  imageRef: { type: ['string', 'null'] },
  image_id: { type: ['string', 'null'] },
  consistencygroup_id: optionalUuid,
  backup_id: optionalUuid,
  group_id: optionalUuid,
};

function createSchema(strict: boolean) {
  return {
    type: 'object',
    properties: {
      volume: { type: 'object', properties: createProperties, additionalProperties: !strict },
      'OS-SCH-HNT:scheduler_hints': { type: ['object', 'null'] },
    },
    required: ['volume'],
    additionalProperties: false,
  };
}

/** Before 3.53 unknown keys inside "volume" are ignored; from 3.53 they are refused. */
export const createVolume = createSchema(false);
export const createVolumeStrict = createSchema(true);

const updateProperties = { name, description, display_name: name, display_description: description, metadata };

export const updateVolume = {
  type: 'object',
  properties: { volume: { type: 'object', properties: updateProperties, additionalProperties: true } },
  required: ['volume'],
  additionalProperties: false,
};

export const updateVolumeStrict = {
  type: 'object',
  properties: {
    volume: { type: 'object', properties: updateProperties, additionalProperties: false, minProperties: 1 },
  },
  required: ['volume'],
  additionalProperties: false,
};

export const setMetadata = {
  type: 'object',
  properties: { metadata },
  required: ['metadata'],
  additionalProperties: false,
};

export const setMetadataItem = {
  type: 'object',
  properties: { meta: { ...metadata, minProperties: 1, maxProperties: 1 } },
  required: ['meta'],
  additionalProperties: false,
};
