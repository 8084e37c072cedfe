import { BOOLEAN_SCHEMA } from '../validation.js';
import { uuid } from './common.js';

// Cinder's "name_skip_leading_trailing_spaces" format is checked by the route, after these.
const transferName = { type: ['string', 'null'] };

function createWith(extra: Record<string, unknown>) {
  return {
    type: 'object',
    properties: {
      transfer: {
        type: 'object',
        properties: { volume_id: uuid, name: transferName, ...extra },
        required: ['volume_id'],
        additionalProperties: false,
      },
    },
    required: ['transfer'],
    additionalProperties: false,
  };
}

/** Cinder's volume_transfer.create. */
export const createTransfer = createWith({});
/** Cinder's volume_transfer.create_v355. */
export const createTransferV355 = createWith({ no_snapshots: BOOLEAN_SCHEMA });

/** Cinder's volume_transfer.accept. */
export const acceptTransfer = {
  type: 'object',
  properties: {
    accept: {
      type: 'object',
      properties: { auth_key: { type: ['string', 'integer'] } },
      required: ['auth_key'],
      additionalProperties: false,
    },
  },
  required: ['accept'],
  additionalProperties: false,
};
