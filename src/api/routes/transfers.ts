import type { FastifyInstance, FastifyRequest } from 'fastify';
import { errors } from '../../errors.js';
import { planTransferList, type QueryParams } from '../query.js';
import * as schemas from '../schemas/transfers.js';
import { toBool } from '../validation.js';
import { transferCreateView, transferDetailView, transferSummaryView } from '../views/transfers.js';
import { bodyObject, contextOf, nextLinks, sendEmpty, sendJson, urlsOf, validate, versionOf, type Params, type RouteDeps } from './common.js';

const API = { api: true } as const;

/** Cinder's name_skip_leading_trailing_spaces format: the name, stripped, must be 1 to 255 characters. */
function transferName(value: unknown): string | null {
  if (value === null || value === undefined) return null;
  const reason = (text: string) => errors.badRequest(`An invalid 'name' value was provided. ${text}`);
  if (value === '') throw reason("The 'name' can not be None.");
  const stripped = String(value).trim();
  if (stripped.length === 0) throw reason("The 'name' can not be empty.");
  if (stripped.length > 255) throw reason("The 'name' can not be greater than 255 characters.");
  return stripped;
}

/**
 * Both doors of Cinder's transfers: the os-volume-transfer extension and, under the same
 * rules plus no_snapshots (3.55) and paged lists (3.59), the v3 volume-transfers resource.
 * Cinder routes the latter at every microversion, so it has no minimum here either.
 */
export function registerTransferRoutes(app: FastifyInstance, deps: RouteDeps): void {
  const { storage, config } = deps;
  for (const collection of ['os-volume-transfer', 'volume-transfers']) {
    const v3 = collection === 'volume-transfers';

    const list = async (req: FastifyRequest, detail: boolean) => {
      const version = versionOf(req);
      const paged = v3 && version.atLeast('3.59');
      const query = planTransferList(req.query as QueryParams, contextOf(req), paged);
      const transfers = await storage.listTransfers(contextOf(req), query);
      const urls = urlsOf(req, config);
      const links = paged ? nextLinks(req, urls, collection, transfers, query.limit) : undefined;
      return {
        transfers: transfers.map((t) => (detail ? transferDetailView(t, urls, version) : transferSummaryView(t, urls))),
        ...(links ? { transfers_links: links } : {}),
      };
    };

    app.get(`/v3/${collection}`, { config: API }, async (req, reply) => sendJson(reply, 200, await list(req, false)));
    app.get(`/v3/${collection}/detail`, { config: API }, async (req, reply) => sendJson(reply, 200, await list(req, true)));

    app.post(`/v3/${collection}`, { config: API }, async (req, reply) => {
      const version = versionOf(req);
      const withSnapshotsChoice = v3 && version.atLeast('3.55');
      validate(req, withSnapshotsChoice ? schemas.createTransferV355 : schemas.createTransfer, req.body);
      const t = bodyObject(bodyObject(req.body).transfer);
      const created = await storage.createTransfer(contextOf(req), {
        volumeId: String(t.volume_id),
        name: transferName(t.name),
        noSnapshots: withSnapshotsChoice && t.no_snapshots !== undefined && toBool(t.no_snapshots),
      });
      return sendJson(reply, 202, { transfer: transferCreateView(created, urlsOf(req, config), version) });
    });

    app.get<Params<'id'>>(`/v3/${collection}/:id`, { config: API }, async (req, reply) => {
      const transfer = await storage.getTransfer(contextOf(req), req.params.id);
      return sendJson(reply, 200, { transfer: transferDetailView(transfer, urlsOf(req, config), versionOf(req)) });
    });

    app.post<Params<'id'>>(`/v3/${collection}/:id/accept`, { config: API }, async (req, reply) => {
      validate(req, schemas.acceptTransfer, req.body);
      const authKey = String(bodyObject(bodyObject(req.body).accept).auth_key);
      const accepted = await storage.acceptTransfer(contextOf(req), req.params.id, authKey);
      return sendJson(reply, 202, { transfer: transferSummaryView(accepted, urlsOf(req, config)) });
    });

    app.delete<Params<'id'>>(`/v3/${collection}/:id`, { config: API }, async (req, reply) => {
      await storage.deleteTransfer(contextOf(req), req.params.id);
      // Cinder's bare webob.Response, whose type is webob's default.
      return sendEmpty(reply, 202, 'text/html; charset=UTF-8');
    });
  }
}
