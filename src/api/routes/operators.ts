import type { FastifyInstance } from 'fastify';
import { errors } from '../../errors.js';
import { single, type QueryParams } from '../query.js';
import { findExtension, listExtensions } from '../views/extensions.js';
import { capabilitiesView, hostUsageView, hostView } from '../views/hosts.js';
import { contextOf, sendJson, type Params, type RouteDeps } from './common.js';

const API = { api: true } as const;

/** What operators read about the deployment: the API's extensions, the hosts and what their backends can do. */
export function registerOperatorRoutes(app: FastifyInstance, { storage }: RouteDeps): void {
  app.get('/v3/extensions', { config: API }, async (_req, reply) => sendJson(reply, 200, { extensions: listExtensions() }));

  app.get<Params<'alias'>>('/v3/extensions/:alias', { config: API }, async (req, reply) => {
    const extension = findExtension(req.params.alias);
    if (!extension) throw errors.notFound();
    return sendJson(reply, 200, { extension });
  });

  app.get('/v3/os-hosts', { config: API }, async (req, reply) => {
    const hosts = await storage.listHosts(contextOf(req), single(req.query as QueryParams, 'zone'));
    return sendJson(reply, 200, { hosts: hosts.map(hostView) });
  });

  app.get<Params<'host'>>('/v3/os-hosts/:host', { config: API }, async (req, reply) => {
    const usage = await storage.showHost(contextOf(req), req.params.host);
    return sendJson(reply, 200, { host: usage.map((entry) => hostUsageView(req.params.host, entry)) });
  });

  app.get<Params<'host'>>('/v3/capabilities/:host', { config: API }, async (req, reply) =>
    sendJson(reply, 200, capabilitiesView(await storage.getCapabilities(contextOf(req), req.params.host))),
  );
}
