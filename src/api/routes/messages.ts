import type { FastifyInstance } from 'fastify';
import { planMessageList, type QueryParams } from '../query.js';
import { parseBoolParam } from '../validation.js';
import { messageView } from '../views/messages.js';
import { contextOf, nextLinks, sendEmpty, sendJson, urlsOf, versionOf, type Params, type RouteDeps } from './common.js';

// 3.3: user messages, what became of an accepted request (a volume no backend had room for).
const MESSAGES = { api: true, minVersion: '3.3' } as const;

export function registerMessageRoutes(app: FastifyInstance, { storage, config }: RouteDeps): void {
  app.get('/v3/messages', { config: MESSAGES }, async (req, reply) => {
    const query = planMessageList(req.query as QueryParams, versionOf(req));
    const messages = await storage.listMessages(contextOf(req), query);
    const urls = urlsOf(req, config);
    const body: Record<string, unknown> = { messages: messages.map((m) => messageView(m, urls)) };
    const links = nextLinks(req, urls, 'messages', messages, query.limit);
    if (links) body.messages_links = links;
    return sendJson(reply, 200, body);
  });

  app.get<Params<'id'>>('/v3/messages/:id', { config: MESSAGES }, async (req, reply) =>
    sendJson(reply, 200, { message: messageView(await storage.getMessage(contextOf(req), req.params.id), urlsOf(req, config)) }),
  );

  app.delete<Params<'id'>>('/v3/messages/:id', { config: MESSAGES }, async (req, reply) => {
    await storage.deleteMessage(contextOf(req), req.params.id);
    return sendEmpty(reply, 204);
  });

  // The scheduler's view of the backends: each pool's name, and with detail what it reported.
  app.get('/v3/scheduler-stats/get_pools', { config: { api: true } }, async (req, reply) => {
    const params = req.query as QueryParams;
    const raw = params.detail;
    const detail = raw === undefined ? false : parseBoolParam('detail', Array.isArray(raw) ? raw[raw.length - 1]! : raw);
    // 3.28 added filtering; the pool name is the filter that means something with one pool per host.
    const name = versionOf(req).atLeast('3.28') && typeof params.name === 'string' ? params.name : undefined;
    const pools = await storage.getPools(contextOf(req), name === undefined ? {} : { name });
    return sendJson(reply, 200, {
      pools: pools.map((pool) => (detail ? { name: pool.name, capabilities: pool.capabilities } : { name: pool.name })),
    });
  });
}
