import { CinderError, ERROR_STATUS, type ErrorCode } from '../../errors.js';
import type { VolumeRpcCall } from '../rpc.js';

export interface Request {
  method: VolumeRpcCall;
  args: unknown[];
}

/** A CinderError keeps its code across the wire, so the workflow answers as it would in one process. */
export type Reply = { result: unknown } | { error: { message: string; code?: ErrorCode } };

/** One volume service per storage host consumes this queue. */
export function queueFor(storageHost: string): string {
  return `cinderblock-volume.${storageHost}`;
}

export function encodeError(err: unknown): Reply {
  if (err instanceof CinderError) return { error: { message: err.message, code: err.code } };
  return { error: { message: err instanceof Error ? err.message : String(err) } };
}

export function decodeError(error: { message: string; code?: string }): Error {
  if (error.code && error.code in ERROR_STATUS) return new CinderError(error.code as ErrorCode, error.message);
  return new Error(error.message);
}
