import type { FastifyInstance, FastifyRequest } from 'fastify';
import { ApiFault } from '../faults.js';
import { planGroupList, type QueryParams } from '../query.js';
import * as schemas from '../schemas/groups.js';
import { toBool } from '../validation.js';
import { groupTypeView } from '../views/groups.js';
import { bodyObject, contextOf, nextLinks, sendEmpty, sendJson, shown, urlsOf, validate, WEBOB_EMPTY, type Params, type RouteDeps } from './common.js';

const API = { api: true, minVersion: '3.11' } as const;

/** Cinder's _parse_is_public: public types unless asked otherwise, `None` for both. */
function isPublicParam(raw: string | string[] | undefined): boolean | null {
  const value = Array.isArray(raw) ? raw[raw.length - 1] : raw;
  if (value === undefined) return true;
  if (value.toLowerCase() === 'none') return null;
  if (['1', 't', 'true', 'on', 'y', 'yes'].includes(value.toLowerCase())) return true;
  if (['0', 'f', 'false', 'off', 'n', 'no'].includes(value.toLowerCase())) return false;
  throw new ApiFault(400, `Invalid is_public filter [${value}]`);
}

export function registerGroupTypeRoutes(app: FastifyInstance, deps: RouteDeps): void {
  const { storage, policy, config } = deps;
  const showSpecs = (req: FastifyRequest) => shown(req, policy, 'group:access_group_types_specs');

  app.get('/v3/group_types', { config: API }, async (req, reply) => {
    const params = req.query as QueryParams;
    const isPublic = isPublicParam(params.is_public);
    const query = planGroupList(params, contextOf(req));
    const types = await storage.listGroupTypes(contextOf(req), query, isPublic);
    const links = nextLinks(req, urlsOf(req, config), 'group_types', types, params.limit === undefined ? undefined : query.limit);
    return sendJson(reply, 200, { group_types: types.map((t) => groupTypeView(t, showSpecs(req))), ...(links ? { group_type_links: links } : {}) });
  });

  app.post('/v3/group_types', { config: API }, async (req, reply) => {
    validate(req, schemas.createGroupType, req.body);
    const t = bodyObject(bodyObject(req.body).group_type);
    const created = await storage.createGroupType(contextOf(req), {
      name: String(t.name),
      description: typeof t.description === 'string' ? t.description : null,
      isPublic: t.is_public === undefined ? true : toBool(t.is_public),
      ...(t.group_specs ? { groupSpecs: t.group_specs as Record<string, string | null> } : {}),
    });
    return sendJson(reply, 202, { group_type: groupTypeView(created, showSpecs(req)) });
  });

  app.get<Params<'id'>>('/v3/group_types/:id', { config: API }, async (req, reply) => {
    if (req.params.id === 'default') {
      // Unset, or naming no type, the default is not found, as in Cinder.
      const named = config.defaultGroupType ? await storage.groupTypeNamed(contextOf(req), config.defaultGroupType) : null;
      if (!named) throw new ApiFault(404, 'Default group type can not be found.');
      return sendJson(reply, 200, { group_type: groupTypeView(named, showSpecs(req)) });
    }
    const type = await storage.getGroupType(contextOf(req), req.params.id);
    return sendJson(reply, 200, { group_type: groupTypeView(type, showSpecs(req)) });
  });

  app.put<Params<'id'>>('/v3/group_types/:id', { config: API }, async (req, reply) => {
    validate(req, schemas.updateGroupType, req.body);
    const t = bodyObject(bodyObject(req.body).group_type);
    const updated = await storage.updateGroupType(contextOf(req), req.params.id, {
      ...(t.name !== undefined ? { name: t.name as string | null } : {}),
      ...(t.description !== undefined ? { description: t.description as string | null } : {}),
      ...(t.is_public !== undefined && t.is_public !== null ? { isPublic: toBool(t.is_public) } : {}),
    });
    return sendJson(reply, 200, { group_type: groupTypeView(updated, showSpecs(req)) });
  });

  app.delete<Params<'id'>>('/v3/group_types/:id', { config: API }, async (req, reply) => {
    await storage.deleteGroupType(contextOf(req), req.params.id);
    return sendEmpty(reply, 202, WEBOB_EMPTY);
  });

  app.get<Params<'id'>>('/v3/group_types/:id/group_specs', { config: API }, async (req, reply) => {
    return sendJson(reply, 200, { group_specs: await storage.getGroupSpecs(contextOf(req), req.params.id) });
  });

  app.post<Params<'id'>>('/v3/group_types/:id/group_specs', { config: API }, async (req, reply) => {
    validate(req, schemas.createGroupSpecs, req.body);
    const specs = bodyObject(req.body).group_specs as Record<string, string | null>;
    await storage.setGroupSpecs(contextOf(req), req.params.id, specs, 'create');
    // Cinder answers with what was sent, not the type's whole set.
    return sendJson(reply, 202, { group_specs: specs });
  });

  app.get<Params<'id' | 'key'>>('/v3/group_types/:id/group_specs/:key', { config: API }, async (req, reply) => {
    return sendJson(reply, 200, await storage.getGroupSpecs(contextOf(req), req.params.id, req.params.key));
  });

  app.put<Params<'id' | 'key'>>('/v3/group_types/:id/group_specs/:key', { config: API }, async (req, reply) => {
    validate(req, schemas.updateGroupSpec, req.body);
    const body = bodyObject(req.body) as Record<string, string | null>;
    if (!(req.params.key in body)) throw new ApiFault(400, 'Request body and URI mismatch');
    await storage.setGroupSpecs(contextOf(req), req.params.id, body, 'update');
    return sendJson(reply, 200, body);
  });

  app.delete<Params<'id' | 'key'>>('/v3/group_types/:id/group_specs/:key', { config: API }, async (req, reply) => {
    await storage.deleteGroupSpec(contextOf(req), req.params.id, req.params.key);
    return sendEmpty(reply, 202, WEBOB_EMPTY);
  });
}
