import type { FastifyInstance } from 'fastify';
import { single, type QueryParams } from '../query.js';
import { parseBoolParam } from '../validation.js';
import * as schemas from '../schemas/quotas.js';
import { bodyObject, contextOf, sendEmpty, sendJson, validate, versionOf, type Params } from './common.js';
import type { RouteDeps } from './common.js';

const API = { api: true } as const;

export function registerQuotaRoutes(app: FastifyInstance, { storage }: RouteDeps): void {
  app.get<Params<'project'>>('/v3/os-quota-sets/:project', { config: API }, async (req, reply) => {
    const usage = single(req.query as QueryParams, 'usage');
    const quotaSet = await storage.getQuotaSet(contextOf(req), req.params.project, usage !== undefined && parseBoolParam('usage', usage));
    return sendJson(reply, 200, { quota_set: { ...quotaSet, id: req.params.project } });
  });

  app.get<Params<'project'>>('/v3/os-quota-sets/:project/defaults', { config: API }, async (req, reply) => {
    const defaults = await storage.getQuotaDefaults(contextOf(req), req.params.project);
    return sendJson(reply, 200, { quota_set: { ...defaults, id: req.params.project } });
  });

  // Cinder answers an update with the limits but without the id.
  app.put<Params<'project'>>('/v3/os-quota-sets/:project', { config: API }, async (req, reply) => {
    validate(req, schemas.updateQuotaSet, req.body);
    const values = bodyObject(bodyObject(req.body).quota_set);
    return sendJson(reply, 200, { quota_set: await storage.updateQuotaSet(contextOf(req), req.params.project, values) });
  });

  app.delete<Params<'project'>>('/v3/os-quota-sets/:project', { config: API }, async (req, reply) => {
    await storage.deleteQuotaSet(contextOf(req), req.params.project);
    return sendEmpty(reply, 200);
  });

  app.get<Params<'name'>>('/v3/os-quota-class-sets/:name', { config: API }, async (req, reply) => {
    const classSet = await storage.getQuotaClassSet(contextOf(req), req.params.name);
    return sendJson(reply, 200, { quota_class_set: { ...classSet, id: req.params.name } });
  });

  app.put<Params<'name'>>('/v3/os-quota-class-sets/:name', { config: API }, async (req, reply) => {
    validate(req, schemas.updateQuotaClassSet, req.body);
    const values = bodyObject(bodyObject(req.body).quota_class_set);
    return sendJson(reply, 200, { quota_class_set: await storage.updateQuotaClassSet(contextOf(req), req.params.name, values) });
  });

  // An administrator may ask for another project's limits from 3.39 on (project_id, or the older tenant_id).
  app.get('/v3/limits', { config: API }, async (req, reply) => {
    const query = req.query as QueryParams;
    const requested = versionOf(req).atLeast('3.39') ? (single(query, 'project_id') ?? single(query, 'tenant_id') ?? null) : null;
    const { limits, used } = await storage.getLimits(contextOf(req), requested);
    const absolute: Record<string, number> = {
      maxTotalVolumes: limits.volumes!,
      maxTotalVolumeGigabytes: limits.gigabytes!,
      maxTotalSnapshots: limits.snapshots!,
      maxTotalBackups: limits.backups!,
      maxTotalBackupGigabytes: limits.backup_gigabytes!,
    };
    if (used) {
      Object.assign(absolute, {
        totalVolumesUsed: used.volumes,
        totalGigabytesUsed: used.gigabytes,
        totalSnapshotsUsed: used.snapshots,
        totalBackupsUsed: used.backups,
        totalBackupGigabytesUsed: used.backup_gigabytes,
      });
    }
    return sendJson(reply, 200, { limits: { rate: [], absolute } });
  });
}
