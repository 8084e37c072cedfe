import { BOOLEAN_SCHEMA } from '../validation.js';
import { description, metadataAllowsNull, name, uuid } from './common.js';

/** Cinder's snapshots.create. */
export const createSnapshot = {
  type: 'object',
  properties: {
    snapshot: {
      type: 'object',
      properties: {
        name,
        display_name: name,
        description,
        display_description: description,
        volume_id: uuid,
        force: BOOLEAN_SCHEMA,
        metadata: metadataAllowsNull,
      },
      required: ['volume_id'],
      additionalProperties: false,
    },
  },
  required: ['snapshot'],
  additionalProperties: false,
};

/** Cinder's snapshots.update: at least one of the four. */
export const updateSnapshot = {
  type: 'object',
  properties: {
    snapshot: {
      type: 'object',
      properties: { name, description, display_name: name, display_description: description },
      anyOf: [{ required: ['name'] }, { required: ['description'] }, { required: ['display_name'] }, { required: ['display_description'] }],
      additionalProperties: false,
    },
  },
  required: ['snapshot'],
  additionalProperties: false,
};
