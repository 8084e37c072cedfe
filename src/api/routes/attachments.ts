import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { AttachMode, Connector } from '../../volumes/types.js';
import { planAttachmentList, type QueryParams } from '../query.js';
import * as schemas from '../schemas/attachments.js';
import { attachmentDetail, attachmentSummary } from '../views/attachments.js';
import { pickAction, type ActionHandler } from './actions.js';
import { bodyObject, contextOf, sendJson, validate, versionOf, type Params, type RouteDeps } from './common.js';

// The whole attachments API arrived in 3.27.
const API = { api: true, minVersion: '3.27' } as const;

export function registerAttachmentRoutes(app: FastifyInstance, { storage }: RouteDeps): void {
  async function list(req: FastifyRequest, detail: boolean) {
    const ctx = contextOf(req);
    const plan = planAttachmentList(req.query as QueryParams, ctx);
    const { attachments } = plan.matchesNothing ? { attachments: [] } : await storage.listAttachments(ctx, plan.query);
    return { attachments: attachments.map((a) => (detail ? attachmentDetail(a) : attachmentSummary(a))) };
  }

  app.get('/v3/attachments', { config: API }, async (req, reply) => sendJson(reply, 200, await list(req, false)));
  app.get('/v3/attachments/detail', { config: API }, async (req, reply) => sendJson(reply, 200, await list(req, true)));

  app.post('/v3/attachments', { config: API }, async (req, reply) => {
    const withMode = versionOf(req).atLeast('3.54');
    validate(req, withMode ? schemas.createAttachmentWithMode : schemas.createAttachment, req.body);
    const a = bodyObject(bodyObject(req.body).attachment);
    // cinderclient sends {} when it has no connector yet; that is no connector.
    const connector = a.connector && Object.keys(a.connector).length > 0 ? (a.connector as Connector) : null;
    const attachment = await storage.createAttachment(contextOf(req), {
      volumeId: String(a.volume_uuid),
      instanceUuid: typeof a.instance_uuid === 'string' ? a.instance_uuid : null,
      connector,
      ...(typeof a.mode === 'string' ? { mode: a.mode as AttachMode } : {}),
    });
    // Cinder answers with the reservation it made, given only the connection info the
    // storage host returned; the host's own progress (attaching, attach time, the mode it
    // settled on) shows from the next read on. Clients rely on seeing "reserved" until they
    // complete. The reservation's mode is "ro" for a read-only volume, else what was asked.
    const requested: AttachMode = typeof a.mode === 'string' ? (a.mode as AttachMode) : 'null';
    const answered = connector
      ? {
          ...attachment,
          attachStatus: 'reserved' as const,
          attachTime: null,
          attachMode: attachment.attachMode === 'ro' ? ('ro' as const) : requested,
        }
      : attachment;
    return sendJson(reply, 200, { attachment: attachmentDetail(answered) });
  });

  app.get<Params<'id'>>('/v3/attachments/:id', { config: API }, async (req, reply) => {
    const attachment = await storage.getAttachment(contextOf(req), req.params.id);
    return sendJson(reply, 200, { attachment: attachmentDetail(attachment) });
  });

  app.put<Params<'id'>>('/v3/attachments/:id', { config: API }, async (req, reply) => {
    validate(req, schemas.updateAttachment, req.body);
    const ctx = contextOf(req);
    const connector = bodyObject(bodyObject(req.body).attachment).connector as Connector;
    // As in Cinder, the answer is the attachment as it was before the storage host
    // connected it, with the connection info that step produced.
    const before = await storage.getAttachment(ctx, req.params.id);
    const after = await storage.updateAttachment(ctx, req.params.id, connector);
    return sendJson(reply, 200, { attachment: attachmentDetail({ ...before, connectionInfo: after.connectionInfo }) });
  });

  app.delete<Params<'id'>>('/v3/attachments/:id', { config: API }, async (req, reply) => {
    const remaining = await storage.deleteAttachment(contextOf(req), req.params.id);
    return sendJson(reply, 200, { attachments: remaining.map(attachmentSummary) });
  });

  const actions: Record<string, ActionHandler> = {
    'os-complete': {
      minVersion: '3.44',
      async run(req, reply, id) {
        await storage.completeAttachment(contextOf(req), id);
        return reply.code(204).send();
      },
    },
  };

  app.post<Params<'id'>>('/v3/attachments/:id/action', { config: API }, async (req, reply) => {
    const action = pickAction(req.body, actions, versionOf(req));
    return action.run(req, reply, req.params.id);
  });

}
