import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { CreateVolumeRequest, UpdateVolumeRequest } from '../../volumes/types.js';
import { ApiFault } from '../faults.js';
import { planVolumeList, type QueryParams } from '../query.js';
import * as schemas from '../schemas/volumes.js';
import { parseBoolParam } from '../validation.js';
import { volumeDetail, volumeSummary } from '../views/volumes.js';
import {
  bodyObject,
  contextOf,
  listBody,
  optionalString,
  registerMetadataSetRoutes,
  sendEmpty,
  sendJson,
  validate,
  versionOf,
  viewEnv,
  type Params,
  type RouteDeps,
} from './common.js';

const API = { api: true } as const;

// Python's truthiness, which is what Cinder applies to the removed option.
function truthy(value: unknown): boolean {
  if (typeof value === 'string') return value.length > 0;
  return Boolean(value);
}


export function registerVolumeRoutes(app: FastifyInstance, deps: RouteDeps): void {
  const { storage, config } = deps;
  async function list(req: FastifyRequest, detail: boolean) {
    const ctx = contextOf(req);
    const env = viewEnv(req, deps);
    const plan = planVolumeList(req.query as QueryParams, ctx, env.version);
    const { volumes, count } = plan.matchesNothing ? { volumes: [], count: 0 } : await storage.listVolumes(ctx, plan.query);
    return listBody(req, env.urls, 'volumes', detail, volumes, plan, count, (v) => (detail ? volumeDetail(v, env) : volumeSummary(v, env)));
  }

  app.get('/v3/volumes', { config: API }, async (req, reply) => sendJson(reply, 200, await list(req, false)));
  app.get('/v3/volumes/detail', { config: API }, async (req, reply) => sendJson(reply, 200, await list(req, true)));

  app.get('/v3/volumes/summary', { config: { ...API, minVersion: '3.12' } }, async (req, reply) => {
    const ctx = contextOf(req);
    const query = req.query as QueryParams;
    const allTenants = ctx.isAdmin && query.all_tenants !== undefined && query.all_tenants !== '0';
    const { volumes } = await storage.listVolumes(ctx, { filters: {}, sort: [], allTenants });
    const summary: Record<string, unknown> = {
      total_count: volumes.length,
      total_size: volumes.reduce((sum, v) => sum + v.size, 0),
    };
    if (versionOf(req).atLeast('3.36')) {
      const metadata: Record<string, string[]> = {};
      for (const volume of volumes) {
        for (const [key, value] of Object.entries(volume.metadata)) {
          const values = (metadata[key] ??= []);
          if (!values.includes(value)) values.push(value);
        }
      }
      summary.metadata = metadata;
    }
    return sendJson(reply, 200, { 'volume-summary': summary });
  });

  app.post('/v3/volumes', { config: API }, async (req, reply) => {
    const ctx = contextOf(req);
    const version = versionOf(req);
    validate(req, version.atLeast('3.53') ? schemas.createVolumeStrict : schemas.createVolume, req.body);
    const volume = bodyObject(bodyObject(req.body).volume);
    if (truthy(volume.multiattach)) {
      throw new ApiFault(
        400,
        'multiattach parameter has been removed. The default behavior is to use multiattach enabled volume types. ' +
          'Contact your administrator to create a multiattach enabled volume type and use it to create multiattach volumes.',
      );
    }
    // Sources this service has no store for: no such object can exist here.
    const imageId = volume.imageRef ?? volume.image_id;
    if (typeof imageId === 'string' && imageId) throw new ApiFault(404, `Image ${imageId} could not be found.`);
    if (typeof volume.backup_id === 'string' && version.atLeast('3.47')) {
      throw new ApiFault(404, `Backup ${volume.backup_id} could not be found.`);
    }
    if (typeof volume.consistencygroup_id === 'string') {
      throw new ApiFault(404, `ConsistencyGroup ${volume.consistencygroup_id} could not be found.`);
    }
    const sourceVolid = optionalString(volume.source_volid);
    const snapshotId = optionalString(volume.snapshot_id);
    let size = volume.size === undefined || volume.size === null ? null : Number(volume.size);
    // A copy may leave the size out and take its source's.
    if (size === null && snapshotId) size = (await storage.getSnapshot(ctx, snapshotId)).size;
    else if (size === null && sourceVolid) size = (await storage.getVolume(ctx, sourceVolid)).size;
    if (size === null || !Number.isInteger(size) || size <= 0) {
      throw new ApiFault(400, `Invalid input received: Volume size '${size === null ? 'None' : String(volume.size)}' must be an integer and greater than 0`);
    }
    const request: CreateVolumeRequest = {
      size,
      name: optionalString(volume.name ?? volume.display_name),
      description: optionalString(volume.description ?? volume.display_description),
      volumeType: optionalString(volume.volume_type),
      availabilityZone: optionalString(volume.availability_zone),
      sourceVolid,
      snapshotId,
      groupId: optionalString(volume.group_id),
    };
    if (volume.metadata) request.metadata = volume.metadata as Record<string, string>;
    const created = await storage.createVolume(ctx, request);
    return sendJson(reply, 202, { volume: volumeDetail(created, viewEnv(req, deps), false) });
  });

  app.get<Params<'id'>>('/v3/volumes/:id', { config: API }, async (req, reply) => {
    const volume = await storage.getVolume(contextOf(req), req.params.id);
    return sendJson(reply, 200, { volume: volumeDetail(volume, viewEnv(req, deps)) });
  });

  app.put<Params<'id'>>('/v3/volumes/:id', { config: API }, async (req, reply) => {
    const strict = versionOf(req).atLeast('3.53');
    validate(req, strict ? schemas.updateVolumeStrict : schemas.updateVolume, req.body);
    const volume = bodyObject(bodyObject(req.body).volume);
    const patch: UpdateVolumeRequest = {};
    // The display_* spellings are the v1 names of the same fields; the new names win.
    for (const [field, keys] of [
      ['name', ['name', 'display_name']],
      ['description', ['description', 'display_description']],
    ] as const) {
      const key = keys.find((k) => k in volume);
      if (key) patch[field] = optionalString(volume[key]);
    }
    if (volume.metadata) patch.metadata = volume.metadata as Record<string, string>;
    const updated = await storage.updateVolume(contextOf(req), req.params.id, patch);
    return sendJson(reply, 200, { volume: volumeDetail(updated, viewEnv(req, deps), false) });
  });

  app.delete<Params<'id'>>('/v3/volumes/:id', { config: API }, async (req, reply) => {
    const ctx = contextOf(req);
    const query = req.query as QueryParams;
    const flag = (name: string) => {
      const value = query[name];
      return value === undefined ? false : parseBoolParam(name, String(Array.isArray(value) ? value[value.length - 1] : value));
    };
    const cascade = flag('cascade');
    const force = versionOf(req).atLeast('3.23') && flag('force');
    await storage.deleteVolume(ctx, req.params.id, { force, cascade });
    // What Cinder's webob answer for this one call looks like.
    return sendEmpty(reply, 202, 'text/html; charset=UTF-8');
  });

  // Volume metadata (user metadata only; admin metadata is shown merged in the volume view).
  app.get<Params<'id'>>('/v3/volumes/:id/metadata', { config: API }, async (req, reply) => {
    return sendJson(reply, 200, { metadata: await storage.getMetadata(contextOf(req), req.params.id) });
  });

  registerMetadataSetRoutes(app, '/v3/volumes/:id/metadata', (req, how) => {
    validate(req, schemas.setMetadata, req.body);
    return storage.setMetadata(contextOf(req), req.params.id, bodyObject(req.body).metadata as Record<string, string>, how);
  });

  app.get<Params<'id' | 'key'>>('/v3/volumes/:id/metadata/:key', { config: API }, async (req, reply) => {
    const value = (await storage.getMetadata(contextOf(req), req.params.id))[req.params.key];
    if (value === undefined) throw new ApiFault(404, 'Metadata item was not found');
    return sendJson(reply, 200, { meta: { [req.params.key]: value } });
  });

  app.put<Params<'id' | 'key'>>('/v3/volumes/:id/metadata/:key', { config: API }, async (req, reply) => {
    validate(req, schemas.setMetadataItem, req.body);
    const meta = bodyObject(req.body).meta as Record<string, string>;
    if (!(req.params.key in meta)) throw new ApiFault(400, 'Request body and URI mismatch');
    await storage.setMetadata(contextOf(req), req.params.id, meta, 'item');
    return sendJson(reply, 200, { meta });
  });

  app.delete<Params<'id' | 'key'>>('/v3/volumes/:id/metadata/:key', { config: API }, async (req, reply) => {
    const ctx = contextOf(req);
    if (!(req.params.key in (await storage.getMetadata(ctx, req.params.id)))) throw new ApiFault(404, 'Metadata item was not found');
    await storage.deleteMetadataKey(ctx, req.params.id, req.params.key);
    return sendEmpty(reply, 200);
  });

}
