// Cinder's schemas of the generic volume group APIs: group types, group specs, groups and
// group snapshots.

import { BOOLEAN_SCHEMA } from '../validation.js';
import { description, metadataAllowsNull, name, uuid } from './common.js';

const requiredName = { type: 'string', minLength: 1, maxLength: 255, pattern: '^(?! *$).*' };

export const createGroupType = {
  type: 'object',
  properties: {
    group_type: {
      type: 'object',
      properties: { name: requiredName, description, is_public: BOOLEAN_SCHEMA, group_specs: metadataAllowsNull },
      required: ['name'],
      additionalProperties: false,
    },
  },
  required: ['group_type'],
  additionalProperties: false,
};

export const updateGroupType = {
  type: 'object',
  properties: {
    group_type: {
      type: 'object',
      properties: { name, description, is_public: BOOLEAN_SCHEMA },
      additionalProperties: false,
    },
  },
  required: ['group_type'],
  additionalProperties: false,
};

const groupSpecs = {
  type: 'object',
  patternProperties: { '^[a-zA-Z0-9-_:.]{1,255}$': { type: ['string', 'null'], maxLength: 255 } },
  additionalProperties: false,
};

export const createGroupSpecs = {
  type: 'object',
  properties: { group_specs: groupSpecs },
  required: ['group_specs'],
  additionalProperties: false,
};

export const updateGroupSpec = { ...groupSpecs, minProperties: 1, maxProperties: 1 };

export const createGroup = {
  type: 'object',
  properties: {
    group: {
      type: 'object',
      properties: {
        description,
        group_type: { type: 'string' },
        name,
        volume_types: { type: 'array', minItems: 1, items: { type: 'string', maxLength: 255 }, uniqueItems: true },
        availability_zone: { type: ['string', 'null'] },
      },
      required: ['group_type', 'volume_types'],
      additionalProperties: false,
    },
  },
  required: ['group'],
  additionalProperties: false,
};

export const createGroupFromSource = {
  type: 'object',
  properties: {
    'create-from-src': {
      type: 'object',
      properties: { description, name, source_group_id: uuid, group_snapshot_id: uuid },
      oneOf: [{ required: ['group_snapshot_id'] }, { required: ['source_group_id'] }],
      additionalProperties: false,
    },
  },
  required: ['create-from-src'],
  additionalProperties: false,
};

export const updateGroup = {
  type: 'object',
  properties: {
    group: {
      type: 'object',
      properties: { description, name, add_volumes: description, remove_volumes: description },
      anyOf: [{ required: ['name'] }, { required: ['description'] }, { required: ['add_volumes'] }, { required: ['remove_volumes'] }],
      additionalProperties: false,
    },
  },
  required: ['group'],
  additionalProperties: false,
};

export const deleteGroup = {
  type: 'object',
  properties: {
    delete: { type: 'object', properties: { 'delete-volumes': BOOLEAN_SCHEMA }, additionalProperties: false },
  },
  required: ['delete'],
  additionalProperties: false,
};

/** For groups and group snapshots alike; the status itself is checked against each one's list. */
export const resetStatus = {
  type: 'object',
  properties: {
    reset_status: { type: 'object', properties: { status: { type: 'string' } }, required: ['status'], additionalProperties: false },
  },
  required: ['reset_status'],
  additionalProperties: false,
};

export const createGroupSnapshot = {
  type: 'object',
  properties: {
    group_snapshot: {
      type: 'object',
      properties: { group_id: uuid, name, description },
      required: ['group_id'],
      additionalProperties: false,
    },
  },
  required: ['group_snapshot'],
  additionalProperties: false,
};
