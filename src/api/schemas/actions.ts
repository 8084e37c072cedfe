import { BOOLEAN_SCHEMA } from '../validation.js';
import { connector, connectorAllowsNull, optionalUuid, uuid, volumeSize } from './common.js';

// Each schema validates the whole action body, {"os-xxx": {...}}, as Cinder's do.
export function action(key: string, inner: Record<string, unknown>) {
  return { type: 'object', properties: { [key]: inner }, required: [key], additionalProperties: false };
}

export const extend = action('os-extend', {
  type: 'object',
  properties: { new_size: volumeSize },
  required: ['new_size'],
  additionalProperties: false,
});

export const setBootable = action('os-set_bootable', {
  type: 'object',
  properties: { bootable: BOOLEAN_SCHEMA },
  required: ['bootable'],
  additionalProperties: false,
});

export const updateReadonlyFlag = action('os-update_readonly_flag', {
  type: 'object',
  properties: { readonly: BOOLEAN_SCHEMA },
  required: ['readonly'],
  additionalProperties: false,
});

export const initializeConnection = action('os-initialize_connection', {
  type: 'object',
  properties: { connector },
  required: ['connector'],
  additionalProperties: false,
});

export const terminateConnection = action('os-terminate_connection', {
  type: 'object',
  properties: { connector: connectorAllowsNull },
  required: ['connector'],
  additionalProperties: false,
});

export const attach = action('os-attach', {
  type: 'object',
  properties: {
    instance_uuid: uuid,
    mountpoint: { type: 'string', minLength: 1, maxLength: 255 },
    host_name: { type: 'string', maxLength: 255 },
    mode: { type: 'string', enum: ['rw', 'ro'] },
  },
  required: ['mountpoint'],
  anyOf: [{ required: ['instance_uuid'] }, { required: ['host_name'] }],
  additionalProperties: false,
});

export const detach = action('os-detach', {
  type: ['object', 'null'],
  properties: { attachment_id: optionalUuid },
  additionalProperties: false,
});

export const forceDetach = action('os-force_detach', {
  type: 'object',
  properties: { connector: connectorAllowsNull, attachment_id: { type: ['string', 'null'] } },
  additionalProperties: false,
});

export const resetStatus = action('os-reset_status', {
  type: 'object',
  properties: {
    status: { type: 'string' },
    attach_status: { type: 'string' },
    migration_status: { type: 'string' },
  },
  additionalProperties: false,
});

export const reimage = action('os-reimage', {
  type: 'object',
  properties: { image_id: uuid, reimage_reserved: BOOLEAN_SCHEMA },
  required: ['image_id'],
  additionalProperties: false,
});
