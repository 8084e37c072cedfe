import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { USER_ATTACHMENT_FILTERS, USER_VOLUME_FILTERS } from '../../volumes/listing.js';
import { serviceFilters, type QueryParams } from '../query.js';
import { serviceView } from '../views/services.js';
import { errors } from '../../errors.js';
import * as schemas from '../schemas/services.js';
import type { ApiVersion } from '../microversion.js';
import { bodyObject, contextOf, sendEmpty, sendJson, validate, versionOf, WEBOB_EMPTY, type RouteDeps } from './common.js';

const API = { api: true } as const;

/**
 * Cinder's get_cluster_host for freeze and thaw: from 3.26 a cluster may be named instead,
 * and exactly one of them must be. There are no clusters here, so a cluster names no service.
 */
function hostToFreeze(body: Record<string, unknown>, version: ApiVersion): string {
  const clustered = version.atLeast('3.26');
  const cluster = clustered ? body.cluster : null;
  const host = body.host;
  if (Boolean(cluster) === Boolean(host)) throw errors.invalidInput(clustered ? 'One and only one of cluster and host must be set.' : 'Host field is missing.');
  if (cluster) throw errors.invalidInput(`No service found with cluster=${String(cluster)}`);
  return host as string;
}

/** 3.32: the levels in force, or new ones (202, no body), in the processes the body names. */
async function logLevels(req: FastifyRequest, reply: FastifyReply, storage: RouteDeps['storage'], action: 'set-log' | 'get-log') {
  validate(req, action === 'set-log' ? schemas.setLog : schemas.getLog, req.body);
  const body = bodyObject(req.body) as { binary?: string; server?: string | null; prefix?: string | null; level?: string | null };
  if (action === 'set-log') {
    await storage.setLogLevels(contextOf(req), body);
    return sendEmpty(reply, 202, WEBOB_EMPTY);
  }
  const levels = await storage.getLogLevels(contextOf(req), body);
  // In Cinder's key order.
  return sendJson(reply, 200, { log_levels: levels.map(({ binary, host, levels: named }) => ({ host, binary, levels: named })) });
}

export function registerMiscRoutes(app: FastifyInstance, { storage, config }: RouteDeps): void {
  app.get('/v3/os-availability-zone', { config: API }, async (_req, reply) =>
    sendJson(reply, 200, {
      availabilityZoneInfo: [{ zoneName: config.availabilityZone, zoneState: { available: true } }],
    }),
  );

  // Who serves: each storage host's cinder-volume, up while its heartbeat is recent.
  app.get('/v3/os-services', { config: API }, async (req, reply) => {
    const services = await storage.listServices(contextOf(req), serviceFilters(req.query as QueryParams));
    const version = versionOf(req);
    return sendJson(reply, 200, { services: services.map((service) => serviceView(service, version)) });
  });

  // Taking a storage host out of scheduling (and back), freezing it, and its log levels; failing over is not implemented.
  app.put<{ Params: { action: string } }>('/v3/os-services/:action', { config: API }, async (req, reply) => {
    const { action } = req.params;
    if (action === 'freeze' || action === 'thaw') {
      validate(req, schemas.freezeAndThaw, req.body);
      const host = hostToFreeze(bodyObject(req.body), versionOf(req));
      await (action === 'freeze' ? storage.freezeHost(contextOf(req), host) : storage.thawHost(contextOf(req), host));
      return sendEmpty(reply, 200);
    }
    if ((action === 'set-log' || action === 'get-log') && versionOf(req).atLeast('3.32')) return logLevels(req, reply, storage, action);
    if (action !== 'enable' && action !== 'disable' && action !== 'disable-log-reason') {
      throw errors.invalidInput('Unknown action');
    }
    validate(req, action === 'disable-log-reason' ? schemas.disableLogReason : schemas.enableDisable, req.body);
    const body = bodyObject(req.body);
    if (typeof body.host !== 'string') throw errors.invalidInput('Host field is missing.');
    const service = typeof body.service === 'string' ? body.service : '';
    const binary = typeof body.binary === 'string' ? body.binary : '';
    const disabled = action !== 'enable';
    const reason = action === 'disable-log-reason' && typeof body.disabled_reason === 'string' ? body.disabled_reason : undefined;
    if (reason !== undefined && reason.trim() === '') throw errors.invalidInput('disabled_reason has a minimum character requirement of 1.');
    await storage.setServiceDisabled(contextOf(req), { host: body.host, binary: binary || service, disabled, ...(reason !== undefined ? { reason } : {}) });
    return sendJson(reply, 200, {
      ...(action === 'disable-log-reason' ? { disabled_reason: reason ?? null } : {}),
      disabled,
      host: body.host,
      service,
      binary,
      status: disabled ? 'disabled' : 'enabled',
    });
  });

  // 3.33: which filters a non-administrator may use on each list.
  app.get('/v3/resource_filters', { config: { ...API, minVersion: '3.33' } }, async (req, reply) => {
    const all = [
      { resource: 'volume', filters: [...USER_VOLUME_FILTERS] },
      { resource: 'attachment', filters: [...USER_ATTACHMENT_FILTERS] },
    ];
    const wanted = (req.query as QueryParams).resource;
    return sendJson(reply, 200, { resource_filters: wanted ? all.filter((f) => f.resource === wanted) : all });
  });
}
