import type { FastifyInstance } from 'fastify';
import * as schemas from '../schemas/types.js';
import { defaultTypeView } from '../views/types.js';
import { bodyObject, contextOf, sendEmpty, sendJson, validate, type Params, type RouteDeps } from './common.js';

const API = { api: true, minVersion: '3.62' } as const;

/** Cinder's default types API (3.62): a project's own default volume type. */
export function registerDefaultTypeRoutes(app: FastifyInstance, { storage }: RouteDeps): void {
  app.get('/v3/default-types', { config: API }, async (req, reply) => {
    const all = await storage.listDefaultTypes(contextOf(req));
    return sendJson(reply, 200, { default_types: all.map(defaultTypeView) });
  });

  app.get<Params<'id'>>('/v3/default-types/:id', { config: API }, async (req, reply) => {
    return sendJson(reply, 200, { default_type: defaultTypeView(await storage.getDefaultType(contextOf(req), req.params.id)) });
  });

  app.put<Params<'id'>>('/v3/default-types/:id', { config: API }, async (req, reply) => {
    validate(req, schemas.setDefaultType, req.body);
    const type = String(bodyObject(bodyObject(req.body).default_type).volume_type);
    return sendJson(reply, 200, { default_type: defaultTypeView(await storage.setDefaultType(contextOf(req), req.params.id, type)) });
  });

  app.delete<Params<'id'>>('/v3/default-types/:id', { config: API }, async (req, reply) => {
    await storage.unsetDefaultType(contextOf(req), req.params.id);
    return sendEmpty(reply, 204);
  });
}
