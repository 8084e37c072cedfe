import type { FastifyInstance } from 'fastify';
import { versionsDocument } from '../views/versions.js';
import { sendJson, urlsOf, type RouteDeps } from './common.js';

export function registerVersionRoutes(app: FastifyInstance, { config }: RouteDeps): void {
  // 300 Multiple Choices at the root is what clients' version discovery expects.
  app.get('/', { config: { api: true } }, async (req, reply) => sendJson(reply, 300, versionsDocument(urlsOf(req, config).origin)));
  app.get('/v3/', { config: { api: true } }, async (req, reply) => sendJson(reply, 200, versionsDocument(urlsOf(req, config).origin)));
  app.get('/v3', async (_req, reply) => reply.redirect('/v3/', 302));
}
