import type { FastifyReply, FastifyRequest } from 'fastify';
import { ApiFault } from '../faults.js';
import type { ApiVersion } from '../microversion.js';

/** One action of an /action endpoint; `run` gets the value under the action's key. */
export interface ActionHandler {
  /** Below this microversion the action is answered with 404, as Cinder does. */
  minVersion?: string;
  run(req: FastifyRequest, reply: FastifyReply, id: string): Promise<FastifyReply>;
}

/**
 * Cinder's action dispatch: the body's single top-level key names the action.
 * A missing or unreadable body, or more than one key, is a malformed body.
 */
export function pickAction(body: unknown, actions: Record<string, ActionHandler>, version: ApiVersion): ActionHandler {
  if (!body || typeof body !== 'object' || Array.isArray(body) || Object.keys(body).length !== 1) {
    throw new ApiFault(400, 'Malformed request body');
  }
  const name = Object.keys(body)[0]!;
  const action = Object.hasOwn(actions, name) ? actions[name] : undefined;
  if (!action) {
    throw new ApiFault(400, `There is no such action: ${name}. Verify the request body and Content-Type header and try again.`);
  }
  if (action.minVersion && !version.atLeast(action.minVersion)) throw new ApiFault(404, 'The resource could not be found.');
  return action;
}
