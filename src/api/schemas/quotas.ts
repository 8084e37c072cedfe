/** Cinder's update_quota: a quota_set of at least one key; which keys and values is the storage's to check. */
export const updateQuotaSet = {
  type: 'object',
  properties: { quota_set: { type: 'object', minProperties: 1 } },
  required: ['quota_set'],
  additionalProperties: false,
};

export const updateQuotaClassSet = {
  type: 'object',
  properties: { quota_class_set: { type: 'object' } },
  required: ['quota_class_set'],
  additionalProperties: false,
};
