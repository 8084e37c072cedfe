import type { ApiVersion } from './microversion.js';

/** An HTTP-level refusal decided by the API layer itself (routing, negotiation, bodies). */
export class ApiFault extends Error {
  constructor(
    readonly status: number,
    message: string,
    readonly extra: {
      echoVersion?: ApiVersion;
      /** Sent with the refusal (WWW-Authenticate on a 401). */
      headers?: Record<string, string>;
      /** A body other than Cinder's fault, for refusals keystonemiddleware words itself. */
      body?: Record<string, unknown>;
    } = {},
  ) {
    super(message);
    this.name = 'ApiFault';
  }
}

export const GENERIC_500_MESSAGE = 'The server has either erred or is incapable of performing the requested operation.';
export const NOT_FOUND_MESSAGE = 'The resource could not be found.';
/** webob's text for a 400 with nothing more specific to say. */
export const MALFORMED_REQUEST_MESSAGE =
  'The server could not comply with the request since it is either malformed or otherwise incorrect.';

// Cinder's Fault names by status; anything not listed is a computeFault.
const FAULT_NAMES: Record<number, string> = {
  400: 'badRequest',
  401: 'unauthorized',
  403: 'forbidden',
  404: 'itemNotFound',
  405: 'badMethod',
  409: 'conflictingRequest',
  413: 'overLimit',
  415: 'badMediaType',
  429: 'overLimit',
  501: 'notImplemented',
  503: 'serviceUnavailable',
};

export function faultBody(status: number, message: string): Record<string, Record<string, unknown>> {
  const inner: Record<string, unknown> = { code: status, message };
  // Cinder's quota faults tell the client it may retry at once.
  if (status === 413 || status === 429) inner.retryAfter = '0';
  return { [FAULT_NAMES[status] ?? 'computeFault']: inner };
}
