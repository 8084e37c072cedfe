// Building blocks shaped like Cinder's parameter_types, so the 400s read alike.

export const uuid = { type: 'string', format: 'uuid' };
export const optionalUuid = { anyOf: [uuid, { type: 'null' }] };
export const name = { type: ['string', 'null'], minLength: 0, maxLength: 255 };
export const description = { type: ['string', 'null'], minLength: 0, maxLength: 255 };
export const volumeSize = { type: ['integer', 'string'], pattern: '^[0-9]+$', minimum: 1, maximum: 2147483647 };
export const volumeSizeAllowsNull = { type: ['integer', 'string', 'null'], pattern: '^[0-9]+$', minimum: 1, maximum: 2147483647 };
export const metadata = {
  type: 'object',
  patternProperties: { '^[a-zA-Z0-9-_:. /]{1,255}$': { type: 'string', maxLength: 255 } },
  additionalProperties: false,
};
export const metadataAllowsNull = { ...metadata, type: ['object', 'null'] };
export const connector = { type: ['object', 'string'] };
export const connectorAllowsNull = { type: ['object', 'string', 'null'] };
