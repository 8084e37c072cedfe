import { uuid } from './common.js';

function create(withMode: boolean) {
  const properties: Record<string, unknown> = {
    instance_uuid: uuid,
    connector: { type: ['object', 'null'] },
    volume_uuid: uuid,
  };
  if (withMode) properties.mode = { type: 'string', enum: ['rw', 'ro'] };
  return {
    type: 'object',
    properties: {
      attachment: { type: 'object', properties, required: ['volume_uuid'], additionalProperties: false },
    },
    required: ['attachment'],
    additionalProperties: false,
  };
}

export const createAttachment = create(false);
/** 3.54 lets the caller choose the attach mode. */
export const createAttachmentWithMode = create(true);

export const updateAttachment = {
  type: 'object',
  properties: {
    attachment: {
      type: 'object',
      properties: { connector: { type: 'object', minProperties: 1 } },
      required: ['connector'],
      additionalProperties: false,
    },
  },
  required: ['attachment'],
  additionalProperties: false,
};
