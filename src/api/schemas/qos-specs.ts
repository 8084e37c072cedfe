// Shaped like cinder/api/schemas/qos_specs.py. The name's own checks (Cinder's
// name_skip_leading_trailing_spaces format) are in the route, which words them as Cinder does.

import { metadata } from './common.js';

export const createQosSpecs = {
  type: 'object',
  properties: {
    qos_specs: {
      type: 'object',
      properties: { name: { type: 'string' } },
      required: ['name'],
      additionalProperties: true,
    },
  },
  required: ['qos_specs'],
  additionalProperties: false,
};

const specsAllowingNull = {
  ...metadata,
  patternProperties: { '^[a-zA-Z0-9-_:. /]{1,255}$': { type: ['string', 'null'], maxLength: 255 } },
};

export const setQosKeys = {
  type: 'object',
  properties: { qos_specs: specsAllowingNull },
  required: ['qos_specs'],
  additionalProperties: false,
};

export const unsetQosKeys = {
  type: 'object',
  properties: {
    keys: { type: 'array', items: { type: 'string', minLength: 1, maxLength: 255 }, uniqueItems: true },
  },
  required: ['keys'],
  additionalProperties: false,
};
