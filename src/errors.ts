// One catalogue of the failures the service reports. Each code has a fixed HTTP
// status; the API layer turns a CinderError into Cinder's fault body, so the
// workflow never needs to know about HTTP.

export const ERROR_STATUS = {
  BAD_REQUEST: 400,
  INVALID_VOLUME: 400,
  INVALID_INPUT: 400,
  VALIDATION: 400,
  NOT_FOUND: 404,
  VOLUME_NOT_FOUND: 404,
  ATTACHMENT_NOT_FOUND: 404,
  VOLUME_TYPE_NOT_FOUND: 404,
  POLICY: 403,
  CONFLICT: 409,
  NOVA_USING_ATTACHMENT: 409,
  OVER_LIMIT: 413,
  BACKEND: 500,
  INTERNAL: 500,
  RPC_TIMEOUT: 502,
  UNAVAILABLE: 503,
} as const;

export type ErrorCode = keyof typeof ERROR_STATUS;

export class CinderError extends Error {
  readonly status: number;
  constructor(
    readonly code: ErrorCode,
    message: string,
  ) {
    super(message);
    this.name = 'CinderError';
    this.status = ERROR_STATUS[code];
  }
}

export const errors = {
  badRequest: (message: string) => new CinderError('BAD_REQUEST', message),
  invalidVolume: (reason: string) => new CinderError('INVALID_VOLUME', `Invalid volume: ${reason}`),
  invalidInput: (reason: string) => new CinderError('INVALID_INPUT', `Invalid input received: ${reason}`),
  validation: (field: string, value: unknown, reason: string) =>
    new CinderError('VALIDATION', `Invalid input for field/attribute ${field}. Value: ${pyRepr(value)}. ${reason}`),
  notFound: (message = 'The resource could not be found.') => new CinderError('NOT_FOUND', message),
  volumeNotFound: (id: string) => new CinderError('VOLUME_NOT_FOUND', `Volume ${id} could not be found.`),
  attachmentNotFound: (id: string) =>
    new CinderError('ATTACHMENT_NOT_FOUND', `Volume attachment could not be found with filter: attachment_id = ${id}.`),
  invalidSnapshot: (reason: string) => new CinderError('BAD_REQUEST', `Invalid snapshot: ${reason}`),
  invalidBackup: (reason: string) => new CinderError('BAD_REQUEST', `Invalid backup: ${reason}`),
  backupNotFound: (id: string) => new CinderError('NOT_FOUND', `Backup ${id} could not be found.`),
  snapshotNotFound: (id: string) => new CinderError('NOT_FOUND', `Snapshot ${id} could not be found.`),
  volumeTypeNotFound: (id: string) => new CinderError('VOLUME_TYPE_NOT_FOUND', `Volume type ${id} could not be found.`),
  policy: (rule: string) => new CinderError('POLICY', `Policy doesn't allow ${rule} to be performed.`),
  conflict: (message: string) => new CinderError('CONFLICT', message),
  novaUsingAttachment: (serverId: string) =>
    new CinderError(
      'NOVA_USING_ATTACHMENT',
      `ConflictNovaUsingAttachment: Detach volume from instance ${serverId} using the Compute API`,
    ),
  overLimit: (message: string) => new CinderError('OVER_LIMIT', message),
  backend: (message: string) => new CinderError('BACKEND', message),
  unavailable: (message: string) => new CinderError('UNAVAILABLE', message),
  /** A backend that did not answer what it can do. */
  capabilitiesTimeout: (service: string) => new CinderError('RPC_TIMEOUT', `Timeout while requesting capabilities from backend ${service}.`),
};

// Cinder's validation messages quote the offending value as Python would print it;
// clients only show it to people, so a close rendering is enough.
export function pyRepr(value: unknown): string {
  if (value === null || value === undefined) return 'None';
  if (value === true) return 'True';
  if (value === false) return 'False';
  if (typeof value === 'string') return `'${value.replace(/\\/g, '\\\\').replace(/'/g, "\\'")}'`;
  if (typeof value === 'number') return String(value);
  if (Array.isArray(value)) return `[${value.map(pyRepr).join(', ')}]`;
  if (typeof value === 'object') {
    const entries = Object.entries(value as Record<string, unknown>).map(([k, v]) => `${pyRepr(k)}: ${pyRepr(v)}`);
    return `{${entries.join(', ')}}`;
  }
  return String(value);
}

/** A tuple of strings as Python prints it, as Cinder's messages list allowed values. */
export function pyTuple(values: readonly string[]): string {
  return `(${values.map(pyRepr).join(', ')})`;
}
