/** Cinder's enable_and_disable: a service named by binary (or its deprecated alias, service) on a host. */
export const enableDisable = {
  type: 'object',
  properties: {
    binary: { type: 'string', minLength: 1, maxLength: 255 },
    host: { type: ['string', 'null'], minLength: 1, maxLength: 255, pattern: '^[a-zA-Z0-9-._#@:/+\\[\\]]*$' },
    cluster: { type: ['string', 'null'] },
    service: { type: 'string', minLength: 1, maxLength: 255 },
  },
  anyOf: [{ required: ['binary'] }, { required: ['service'] }],
  additionalProperties: false,
};

export const disableLogReason = {
  ...enableDisable,
  properties: { ...enableDisable.properties, disabled_reason: { type: 'string', minLength: 1, maxLength: 255 } },
};

/** Cinder's freeze_and_thaw. */
export const freezeAndThaw = {
  type: 'object',
  properties: {
    cluster: { type: ['string', 'null'], minLength: 0, maxLength: 255 },
    host: enableDisable.properties.host,
  },
  additionalProperties: false,
};
