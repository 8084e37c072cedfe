import type { FastifyInstance } from 'fastify';
import { ApiFault } from '../faults.js';
import { bodyObject, contextOf, registerMetadataSetRoutes, sendEmpty, sendJson, type Params, type RouteDeps } from './common.js';

const API = { api: true } as const;

/**
 * Cinder's assert_valid_body: the body must hold `key`, with an object under it. Snapshot
 * metadata has no schema; its keys and values are checked as the set is saved.
 */
function entity(body: unknown, key: string): Record<string, unknown> {
  const value = bodyObject(body)[key];
  if (!value || typeof value !== 'object' || Array.isArray(value)) throw new ApiFault(400, `Missing required element '${key}' in request body.`);
  return value as Record<string, unknown>;
}

function missingKey(snapshotId: string, key: string): ApiFault {
  return new ApiFault(404, `Snapshot ${snapshotId} has no metadata with key ${key}.`);
}

export function registerSnapshotMetadataRoutes(app: FastifyInstance, { storage }: RouteDeps): void {
  app.get<Params<'id'>>('/v3/snapshots/:id/metadata', { config: API }, async (req, reply) => {
    return sendJson(reply, 200, { metadata: await storage.getSnapshotMetadata(contextOf(req), req.params.id) });
  });

  registerMetadataSetRoutes(app, '/v3/snapshots/:id/metadata', (req, how) =>
    storage.setSnapshotMetadata(contextOf(req), req.params.id, entity(req.body, 'metadata'), how),
  );

  app.get<Params<'id' | 'key'>>('/v3/snapshots/:id/metadata/:key', { config: API }, async (req, reply) => {
    const metadata = await storage.getSnapshotMetadata(contextOf(req), req.params.id);
    if (!Object.hasOwn(metadata, req.params.key)) throw missingKey(req.params.id, req.params.key);
    return sendJson(reply, 200, { meta: { [req.params.key]: metadata[req.params.key] } });
  });

  app.put<Params<'id' | 'key'>>('/v3/snapshots/:id/metadata/:key', { config: API }, async (req, reply) => {
    const meta = entity(req.body, 'meta');
    if (!Object.hasOwn(meta, req.params.key)) throw new ApiFault(400, 'Request body and URI mismatch');
    if (Object.keys(meta).length > 1) throw new ApiFault(400, 'Request body contains too many items');
    await storage.setSnapshotMetadata(contextOf(req), req.params.id, meta, 'merge');
    return sendJson(reply, 200, { meta });
  });

  app.delete<Params<'id' | 'key'>>('/v3/snapshots/:id/metadata/:key', { config: API }, async (req, reply) => {
    await storage.deleteSnapshotMetadataKey(contextOf(req), req.params.id, req.params.key);
    // Cinder's delete answers with a bare webob response.
    return sendEmpty(reply, 200, 'text/html; charset=UTF-8');
  });
}
