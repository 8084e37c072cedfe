import { LOG_BINARIES } from '../../volumes/log-levels-admin.js';

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

const nullableString = { type: ['string', 'null'], minLength: 0, maxLength: 255 };

/** Cinder's get_log: the binary among LOG_BINARIES, '' or '*' meaning all of them. */
export const getLog = {
  type: 'object',
  properties: {
    binary: { type: 'string', enum: [...LOG_BINARIES, '', '*'] },
    server: nullableString,
    prefix: nullableString,
  },
  additionalProperties: false,
};

/** Cinder's set_log; its level format is checked by the workflow, with Cinder's message. */
export const setLog = {
  ...getLog,
  properties: { ...getLog.properties, level: { type: ['string', 'null'] } },
};
