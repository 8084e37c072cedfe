import { BOOLEAN_SCHEMA } from '../validation.js';
import { description, metadataAllowsNull, name, uuid } from './common.js';

/** Cinder's uuid_allow_null: a missing volume is then looked up, and not found, as volume None. */
const uuidAllowNull = { oneOf: [uuid, { type: 'null' }] };

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
        volume_id: uuidAllowNull,
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

/** Cinder's admin_actions.reset_status_snapshot; the status itself is checked by the workflow, in Cinder's words. */
export const resetSnapshotStatus = {
  type: 'object',
  properties: {
    'os-reset_status': {
      type: 'object',
      properties: { status: { type: 'string' } },
      required: ['status'],
      additionalProperties: false,
    },
  },
  required: ['os-reset_status'],
  additionalProperties: false,
};

/** Cinder's snapshot_actions.update_snapshot_status; progress has a format of its own (checked by the route). */
export const updateSnapshotStatus = {
  type: 'object',
  properties: {
    'os-update_snapshot_status': {
      type: 'object',
      properties: { status: { type: 'string' }, progress: {} },
      required: ['status'],
      additionalProperties: false,
    },
  },
  required: ['os-update_snapshot_status'],
  additionalProperties: false,
};
