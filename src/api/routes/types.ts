import type { FastifyInstance, FastifyRequest } from 'fastify';
import { ApiFault } from '../faults.js';
import type { QueryParams } from '../query.js';
import * as schemas from '../schemas/types.js';
import { parseBoolParam, toBool } from '../validation.js';
import { volumeTypeManageView, volumeTypeUpdateView, volumeTypeView, type TypeViewShows } from '../views/types.js';
import { registerDefaultTypeRoutes } from './default-types.js';
import { registerTypeAccessRoutes } from './type-access.js';
import { registerTypeEncryptionRoutes } from './type-encryption.js';
import { bodyObject, contextOf, sendEmpty, sendJson, shown, validate, versionOf, type Params, type RouteDeps } from './common.js';

const API = { api: true } as const;

/** Cinder's _parse_is_public, for a value that is not "none". */
function parseIsPublic(value: string): boolean {
  try {
    return parseBoolParam('is_public', value);
  } catch {
    throw new ApiFault(400, `Invalid is_public filter [${value}]`);
  }
}

function last(value: string | string[] | undefined): string | undefined {
  return Array.isArray(value) ? value[value.length - 1] : value;
}

export function registerTypeRoutes(app: FastifyInstance, deps: RouteDeps): void {
  const { storage, policy } = deps;
  registerTypeAccessRoutes(app, deps);
  registerTypeEncryptionRoutes(app, deps);
  registerDefaultTypeRoutes(app, deps);
  const shows = (req: FastifyRequest): TypeViewShows => ({
    qosSpecsId: shown(req, policy, 'volume_extension:access_types_qos_specs_id'),
    access: shown(req, policy, 'volume_extension:volume_type_access'),
  });

  app.get('/v3/types', { config: API }, async (req, reply) => {
    const query = req.query as QueryParams;
    const ctx = contextOf(req);
    const isPublic = last(query.is_public);
    // Only an administrator's is_public counts (and is checked), as in Cinder.
    const filter = ctx.isAdmin && isPublic !== undefined ? { isPublic: isPublic.toLowerCase() === 'none' ? null : parseIsPublic(isPublic) } : {};
    let types = await storage.listVolumeTypes(ctx, filter);
    const extraSpecs = last(query.extra_specs);
    // 3.52: only types carrying all the given extra specs.
    if (extraSpecs !== undefined && versionOf(req).atLeast('3.52')) {
      let wanted: Record<string, unknown>;
      try {
        wanted = JSON.parse(extraSpecs.replace(/'/g, '"')) as Record<string, unknown>;
      } catch {
        throw new ApiFault(400, `Invalid input received: 'extra_specs = ${extraSpecs}'`);
      }
      types = types.filter((t) => Object.entries(wanted).every(([k, v]) => t.extraSpecs[k] === String(v)));
    }
    return sendJson(reply, 200, { volume_types: types.map((t) => volumeTypeView(t, shows(req))) });
  });

  app.post('/v3/types', { config: API }, async (req, reply) => {
    const ctx = contextOf(req);
    validate(req, schemas.createType, req.body);
    const t = bodyObject(bodyObject(req.body).volume_type);
    const isPublic = t['os-volume-type-access:is_public'];
    const created = await storage.createVolumeType(ctx, {
      name: String(t.name),
      description: typeof t.description === 'string' ? t.description : null,
      isPublic: isPublic === undefined ? true : toBool(isPublic),
      ...(t.extra_specs ? { extraSpecs: t.extra_specs as Record<string, string> } : {}),
    });
    return sendJson(reply, 200, { volume_type: volumeTypeManageView(created, shows(req)) });
  });

  app.get<Params<'id'>>('/v3/types/:id', { config: API }, async (req, reply) => {
    const ctx = contextOf(req);
    // "default" is the project's default type if it has one, else the service's.
    const type = req.params.id === 'default' ? await storage.getDefaultVolumeType(ctx) : await storage.getVolumeType(ctx, req.params.id);
    return sendJson(reply, 200, { volume_type: volumeTypeView(type, shows(req)) });
  });

  app.put<Params<'id'>>('/v3/types/:id', { config: API }, async (req, reply) => {
    const ctx = contextOf(req);
    validate(req, schemas.updateType, req.body);
    const t = bodyObject(bodyObject(req.body).volume_type);
    const name = typeof t.name === 'string' ? t.name : undefined;
    const description = typeof t.description === 'string' ? t.description : undefined;
    const isPublic = t.is_public === undefined || t.is_public === null ? undefined : toBool(t.is_public);
    if (name !== undefined && name.trim() === '') throw new ApiFault(400, 'Volume type name can not be empty.');
    if (name === undefined && description === undefined && isPublic === undefined) {
      throw new ApiFault(400, 'Specify volume type name, description, is_public or a combination thereof.');
    }
    const updated = await storage.updateVolumeType(ctx, req.params.id, {
      ...(name !== undefined ? { name } : {}),
      ...(description !== undefined ? { description } : {}),
      ...(isPublic !== undefined ? { isPublic } : {}),
    });
    return sendJson(reply, 200, { volume_type: volumeTypeUpdateView(updated) });
  });

  app.delete<Params<'id'>>('/v3/types/:id', { config: API }, async (req, reply) => {
    const ctx = contextOf(req);
    await storage.deleteVolumeType(ctx, req.params.id);
    return sendEmpty(reply, 202);
  });

  app.get<Params<'id'>>('/v3/types/:id/extra_specs', { config: API }, async (req, reply) => {
    return sendJson(reply, 200, { extra_specs: await storage.getExtraSpecs(contextOf(req), req.params.id) });
  });

  app.post<Params<'id'>>('/v3/types/:id/extra_specs', { config: API }, async (req, reply) => {
    const ctx = contextOf(req);
    validate(req, schemas.setExtraSpecs, req.body);
    const specs = bodyObject(req.body).extra_specs as Record<string, string>;
    await storage.setExtraSpecs(ctx, req.params.id, specs, 'create');
    // Cinder answers with what was set, not the type's whole set.
    return sendJson(reply, 200, { extra_specs: specs });
  });

  app.get<Params<'id' | 'key'>>('/v3/types/:id/extra_specs/:key', { config: API }, async (req, reply) => {
    const value = (await storage.getExtraSpecs(contextOf(req), req.params.id, req.params.key))[req.params.key];
    if (value === undefined) {
      throw new ApiFault(404, `Volume Type ${req.params.id} has no extra specs with key ${req.params.key}.`);
    }
    return sendJson(reply, 200, { [req.params.key]: value });
  });

  app.put<Params<'id' | 'key'>>('/v3/types/:id/extra_specs/:key', { config: API }, async (req, reply) => {
    const ctx = contextOf(req);
    const body = bodyObject(req.body);
    if (Object.keys(body).length > 1) throw new ApiFault(400, 'Request body contains too many items');
    validate(req, schemas.setExtraSpec, req.body);
    if (!(req.params.key in body)) throw new ApiFault(400, 'Request body and URI mismatch');
    await storage.setExtraSpecs(ctx, req.params.id, body as Record<string, string>, 'update');
    return sendJson(reply, 200, body);
  });

  app.delete<Params<'id' | 'key'>>('/v3/types/:id/extra_specs/:key', { config: API }, async (req, reply) => {
    const ctx = contextOf(req);
    await storage.deleteExtraSpec(ctx, req.params.id, req.params.key);
    return sendEmpty(reply, 202);
  });
}
