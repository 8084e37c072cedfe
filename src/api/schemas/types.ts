import { BOOLEAN_SCHEMA } from '../validation.js';
import { action } from './actions.js';
import { description } from './common.js';

const extraSpecs = {
  type: 'object',
  patternProperties: { '^[a-zA-Z0-9-_:. /]{1,255}$': { type: 'string', maxLength: 255 } },
  additionalProperties: false,
};

export const createType = {
  type: 'object',
  properties: {
    volume_type: {
      type: 'object',
      properties: {
        name: { type: 'string', minLength: 1, maxLength: 255, pattern: '^(?! *$).*' },
        description: { type: ['string', 'null'], maxLength: 255 },
        'os-volume-type-access:is_public': BOOLEAN_SCHEMA,
        extra_specs: extraSpecs,
      },
      required: ['name'],
      additionalProperties: false,
    },
  },
  required: ['volume_type'],
  additionalProperties: false,
};

export const setExtraSpecs = {
  type: 'object',
  properties: { extra_specs: extraSpecs },
  required: ['extra_specs'],
  additionalProperties: false,
};

export const setExtraSpec = { ...extraSpecs, minProperties: 1, maxProperties: 1 };

export const updateType = {
  type: 'object',
  properties: {
    volume_type: {
      type: 'object',
      properties: {
        name: { type: ['string', 'null'], minLength: 1, maxLength: 255 },
        description,
        is_public: BOOLEAN_SCHEMA,
      },
      additionalProperties: false,
    },
  },
  required: ['volume_type'],
  additionalProperties: false,
};

// Keystone's project ids have no dashes; Cinder's uuid format (uuidutils.is_uuid_like) takes
// them, the strict uuid format the server's ajv ends up with does not.
const uuidLike = { type: 'string', pattern: '^-*(?:[0-9a-fA-F]-*){32}$' };
const projectAccess = { type: 'object', properties: { project: uuidLike }, required: ['project'], additionalProperties: false };
export const addProjectAccess = action('addProjectAccess', projectAccess);
export const removeProjectAccess = action('removeProjectAccess', projectAccess);

export const retype = action('os-retype', {
  type: 'object',
  properties: { new_type: { type: 'string' }, migration_policy: { type: ['string', 'null'], enum: ['on-demand', 'never'] } },
  required: ['new_type'],
  additionalProperties: false,
});

const encryptionProperties = {
  // Cinder's key_size format takes any integer-like string.
  key_size: { type: ['string', 'integer', 'null'], pattern: '^ *[-+]?[0-9]+ *$', minimum: 0, maximum: 2147483647 },
  provider: { type: 'string', minLength: 0, maxLength: 255 },
  control_location: { enum: ['front-end', 'back-end'] },
  cipher: { type: ['string', 'null'], minLength: 0, maxLength: 255 },
};

export const createEncryption = {
  type: 'object',
  properties: {
    encryption: { type: 'object', properties: encryptionProperties, required: ['provider', 'control_location'], additionalProperties: true },
  },
  required: ['encryption'],
  additionalProperties: false,
};

export const updateEncryption = {
  type: 'object',
  properties: { encryption: { type: 'object', properties: encryptionProperties, additionalProperties: true } },
  required: ['encryption'],
  additionalProperties: false,
};

/** Cinder's create_or_update; its top level, unlike the others, allows more keys. */
export const setDefaultType = {
  type: 'object',
  properties: {
    default_type: {
      type: 'object',
      properties: { volume_type: { type: 'string', minLength: 1, maxLength: 255, pattern: '^(?! *$).*' } },
      required: ['volume_type'],
      additionalProperties: false,
    },
  },
  // Cinder's has no required key and then fails on the missing one; naming it is kinder.
  required: ['default_type'],
};
