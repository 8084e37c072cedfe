import type { FastifyInstance } from 'fastify';
import * as schemas from '../schemas/types.js';
import { typeAccessView } from '../views/types.js';
import { pickAction, type ActionHandler } from './actions.js';
import { bodyObject, contextOf, sendEmpty, sendJson, validate, versionOf, type Params, type RouteDeps } from './common.js';

const API = { api: true } as const;

/** Cinder's volume_type_access extension: who may use a private type. */
export function registerTypeAccessRoutes(app: FastifyInstance, { storage }: RouteDeps): void {
  const projectIn = (body: unknown, key: string) => String(bodyObject(bodyObject(body)[key]).project);
  const actions: Record<string, ActionHandler> = {
    addProjectAccess: {
      async run(req, reply, id) {
        validate(req, schemas.addProjectAccess, req.body);
        await storage.addTypeAccess(contextOf(req), id, projectIn(req.body, 'addProjectAccess'));
        return sendEmpty(reply, 202);
      },
    },
    removeProjectAccess: {
      async run(req, reply, id) {
        validate(req, schemas.removeProjectAccess, req.body);
        await storage.removeTypeAccess(contextOf(req), id, projectIn(req.body, 'removeProjectAccess'));
        return sendEmpty(reply, 202);
      },
    },
  };

  app.post<Params<'id'>>('/v3/types/:id/action', { config: API }, async (req, reply) => {
    return pickAction(req.body, actions, versionOf(req)).run(req, reply, req.params.id);
  });

  app.get<Params<'id'>>('/v3/types/:id/os-volume-type-access', { config: API }, async (req, reply) => {
    return sendJson(reply, 200, typeAccessView(await storage.listTypeAccess(contextOf(req), req.params.id)));
  });
}
