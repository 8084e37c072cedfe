// /qos-specs, as Cinder's qos_specs_manage extension: create, list, show, set keys,
// delete_keys, delete (force), and the volume-type associations (GET actions, as Cinder
// routes them). Action answers are Cinder's bare webob 202s.

import type { FastifyInstance, FastifyRequest } from 'fastify';
import { ApiFault } from '../faults.js';
import { planQosSpecsList, type QueryParams } from '../query.js';
import * as schemas from '../schemas/qos-specs.js';
import { parseBoolParam } from '../validation.js';
import { qosAssociationView, qosSpecsDetailView, qosSpecsView } from '../views/qos-specs.js';
import { bodyObject, contextOf, nextLinks, sendEmpty, sendJson, urlsOf, validate, type Params, type RouteDeps } from './common.js';

const API = { api: true } as const;
const WEBOB_EMPTY = 'text/html; charset=UTF-8';

function param(req: FastifyRequest, name: string): string | undefined {
  const value = (req.query as QueryParams)[name];
  return Array.isArray(value) ? value[value.length - 1] : value;
}

/** Cinder's name_skip_leading_trailing_spaces format, which answers with its own text; the stored name is stripped. */
function qosName(raw: string): string {
  const refuse = (reason: string) => new ApiFault(400, `An invalid 'name' value was provided. ${reason}`);
  if (raw === '') throw refuse("The 'name' can not be None.");
  const name = raw.trim();
  if (name.length === 0) throw refuse("The 'name' can not be empty.");
  if (name.length > 255) throw refuse("The 'name' can not be greater than 255 characters.");
  return name;
}

export function registerQosSpecsRoutes(app: FastifyInstance, deps: RouteDeps): void {
  const { storage, config } = deps;

  app.get('/v3/qos-specs', { config: API }, async (req, reply) => {
    const query = planQosSpecsList(req.query as QueryParams);
    const specs = await storage.listQosSpecs(contextOf(req), query);
    const links = nextLinks(req, urlsOf(req, config), 'qos-specs', specs, query.limit);
    return sendJson(reply, 200, { qos_specs: specs.map(qosSpecsView), ...(links ? { qos_specs_links: links } : {}) });
  });

  app.post('/v3/qos-specs', { config: API }, async (req, reply) => {
    validate(req, schemas.createQosSpecs, req.body);
    const { name, ...specs } = bodyObject(bodyObject(req.body).qos_specs);
    const created = await storage.createQosSpecs(contextOf(req), qosName(String(name)), specs);
    return sendJson(reply, 200, qosSpecsDetailView(created, urlsOf(req, config)));
  });

  app.get<Params<'id'>>('/v3/qos-specs/:id', { config: API }, async (req, reply) => {
    const qos = await storage.getQosSpecs(contextOf(req), req.params.id);
    return sendJson(reply, 200, qosSpecsDetailView(qos, urlsOf(req, config)));
  });

  app.put<Params<'id'>>('/v3/qos-specs/:id', { config: API }, async (req, reply) => {
    validate(req, schemas.setQosKeys, req.body);
    await storage.setQosKeys(contextOf(req), req.params.id, bodyObject(req.body).qos_specs as Record<string, string | null>);
    // Cinder answers with the request body.
    return sendJson(reply, 200, req.body);
  });

  app.delete<Params<'id'>>('/v3/qos-specs/:id', { config: API }, async (req, reply) => {
    const ctx = contextOf(req);
    const force = param(req, 'force');
    await storage.deleteQosSpecs(ctx, req.params.id, force === undefined ? false : parseBoolParam('force', force));
    return sendEmpty(reply, 202, WEBOB_EMPTY);
  });

  app.put<Params<'id'>>('/v3/qos-specs/:id/delete_keys', { config: API }, async (req, reply) => {
    validate(req, schemas.unsetQosKeys, req.body);
    await storage.deleteQosKeys(contextOf(req), req.params.id, bodyObject(req.body).keys as string[]);
    return sendEmpty(reply, 202, WEBOB_EMPTY);
  });

  app.get<Params<'id'>>('/v3/qos-specs/:id/associations', { config: API }, async (req, reply) => {
    const associations = await storage.getQosAssociations(contextOf(req), req.params.id);
    return sendJson(reply, 200, { qos_associations: associations.map(qosAssociationView) });
  });

  app.get<Params<'id'>>('/v3/qos-specs/:id/associate', { config: API }, async (req, reply) => {
    await storage.associateQosSpecs(contextOf(req), req.params.id, param(req, 'vol_type_id'));
    return sendEmpty(reply, 202, WEBOB_EMPTY);
  });

  app.get<Params<'id'>>('/v3/qos-specs/:id/disassociate', { config: API }, async (req, reply) => {
    await storage.disassociateQosSpecs(contextOf(req), req.params.id, param(req, 'vol_type_id'));
    return sendEmpty(reply, 202, WEBOB_EMPTY);
  });

  app.get<Params<'id'>>('/v3/qos-specs/:id/disassociate_all', { config: API }, async (req, reply) => {
    await storage.disassociateAllQosSpecs(contextOf(req), req.params.id);
    return sendEmpty(reply, 202, WEBOB_EMPTY);
  });
}
