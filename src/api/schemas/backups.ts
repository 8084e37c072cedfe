import { BOOLEAN_SCHEMA } from '../validation.js';
import { description, metadataAllowsNull, name, uuid } from './common.js';

const container = { type: ['string', 'null'], minLength: 0, maxLength: 255 };
const uuidAllowsNull = { anyOf: [uuid, { type: 'null' }] };

const createProperties = {
  volume_id: uuid,
  container,
  description,
  incremental: BOOLEAN_SCHEMA,
  force: BOOLEAN_SCHEMA,
  name,
  snapshot_id: uuidAllowsNull,
};

function createWith(extra: Record<string, object>) {
  return {
    type: 'object',
    properties: {
      backup: { type: 'object', properties: { ...createProperties, ...extra }, required: ['volume_id'], additionalProperties: false },
    },
    required: ['backup'],
    additionalProperties: false,
  };
}

/** Cinder's backups.create, then create_backup_v343 (metadata) and create_backup_v351 (availability_zone). */
export const createBackup = createWith({});
export const createBackupV343 = createWith({ metadata: metadataAllowsNull });
export const createBackupV351 = createWith({ metadata: metadataAllowsNull, availability_zone: { type: ['string', 'null'] } });

function updateWith(extra: Record<string, object>) {
  return {
    type: 'object',
    properties: {
      backup: { type: ['object', 'null'], properties: { name, description, ...extra }, additionalProperties: false },
    },
    required: ['backup'],
    additionalProperties: false,
  };
}

/** Cinder's backups.update, then update_backup_v343 (metadata, as extra specs are checked). */
export const updateBackup = updateWith({});
export const updateBackupV343 = updateWith({
  metadata: {
    type: 'object',
    patternProperties: { '^[a-zA-Z0-9-_:. /]{1,255}$': { type: 'string', maxLength: 255 } },
    additionalProperties: false,
  },
});

export const restoreBackup = {
  type: 'object',
  properties: {
    restore: { type: ['object', 'null'], properties: { name, volume_id: uuidAllowsNull }, additionalProperties: false },
  },
  required: ['restore'],
  additionalProperties: false,
};

export const importRecord = {
  type: 'object',
  properties: {
    'backup-record': {
      type: 'object',
      properties: {
        backup_service: { type: 'string', minLength: 0, maxLength: 255 },
        backup_url: { type: 'string', minLength: 1, pattern: '^[A-Za-z0-9+/]*={0,2}$' },
      },
      required: ['backup_service', 'backup_url'],
      additionalProperties: false,
    },
  },
  required: ['backup-record'],
  additionalProperties: false,
};

/** Cinder's admin_actions.reset_status_backup; the status itself is checked as its format checker does. */
export const resetBackupStatus = {
  type: 'object',
  properties: {
    'os-reset_status': { type: 'object', properties: { status: { type: 'string' } }, required: ['status'], additionalProperties: false },
  },
  required: ['os-reset_status'],
  additionalProperties: false,
};

export const forceDeleteBackup = {
  type: 'object',
  properties: { 'os-force_delete': {} },
  required: ['os-force_delete'],
  additionalProperties: false,
};
