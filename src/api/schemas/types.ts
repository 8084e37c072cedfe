import { BOOLEAN_SCHEMA } from '../validation.js';

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
