import type { FastifyInstance, FastifyRequest } from 'fastify';
import { ApiFault } from '../faults.js';
import { planSnapshotList, type QueryParams } from '../query.js';
import * as schemas from '../schemas/snapshots.js';
import { toBool } from '../validation.js';
import { snapshotView } from '../views/snapshots.js';
import { bodyObject, contextOf, nextLinks, optionalString, sendEmpty, sendJson, shown, urlsOf, validate, versionOf, type Params, type RouteDeps } from './common.js';
import { registerSnapshotActionRoutes } from './snapshot-actions.js';
import { registerSnapshotMetadataRoutes } from './snapshot-metadata.js';

const API = { api: true } as const;

const SNAPSHOT_IN_USE_FLAG_MESSAGE =
  "Since microversion 3.66 the 'force' flag is invalid for this request.  For backward compatability, however, " +
  "when the 'force' flag is passed with a value evaluating to True, it is silently ignored.";

export function registerSnapshotRoutes(app: FastifyInstance, deps: RouteDeps): void {
  const { storage, policy, config } = deps;
  // The progress and project attributes, where the view has them and the policy shows them.
  const extended = (req: FastifyRequest) => shown(req, policy, 'volume_extension:extended_snapshot_attributes');
  async function list(req: FastifyRequest, detail: boolean) {
    const ctx = contextOf(req);
    const version = versionOf(req);
    const plan = planSnapshotList(req.query as QueryParams, ctx, version);
    const { snapshots, count } = plan.matchesNothing ? { snapshots: [], count: 0 } : await storage.listSnapshots(ctx, plan.query);
    // Cinder's summary list is the bare view: no extended attributes and none of the microversions' fields.
    const body: Record<string, unknown> = {
      snapshots: snapshots.map((s) => (detail ? snapshotView(s, version, extended(req)) : snapshotView(s, null, false))),
    };
    const path = detail ? 'snapshots/detail' : 'snapshots';
    const links = nextLinks(req, urlsOf(req, config), path, snapshots, plan.query.limit, plan.withCount ? count : undefined);
    if (links) body.snapshots_links = links;
    if (plan.withCount) body.count = count;
    return body;
  }

  app.get('/v3/snapshots', { config: API }, async (req, reply) => sendJson(reply, 200, await list(req, false)));
  app.get('/v3/snapshots/detail', { config: API }, async (req, reply) => sendJson(reply, 200, await list(req, true)));

  app.post('/v3/snapshots', { config: API }, async (req, reply) => {
    validate(req, schemas.createSnapshot, req.body);
    const ctx = contextOf(req);
    const s = bodyObject(bodyObject(req.body).snapshot);
    const volumeId = optionalString(s.volume_id);
    const force = s.force === undefined || s.force === null ? null : toBool(s.force);
    // From 3.66 an in-use volume may be snapshotted without force, and force false is refused
    // (after the volume is found, as Cinder looks it up first).
    const inUseAllowed = versionOf(req).atLeast('3.66');
    if (inUseAllowed && force === false) {
      await storage.getVolume(ctx, volumeId ?? 'None');
      throw new ApiFault(400, SNAPSHOT_IN_USE_FLAG_MESSAGE);
    }
    const created = await storage.createSnapshot(ctx, {
      volumeId,
      // The display_* spellings are the v1 names of the same fields; the new names win.
      name: optionalString(s.name ?? s.display_name),
      description: optionalString(s.description ?? s.display_description),
      force: inUseAllowed || force === true,
      ...(s.metadata ? { metadata: s.metadata as Record<string, string> } : {}),
    });
    // Cinder's extended attributes extend show and detail only, not create or update.
    return sendJson(reply, 202, { snapshot: snapshotView(created, versionOf(req), false) });
  });

  app.get<Params<'id'>>('/v3/snapshots/:id', { config: API }, async (req, reply) => {
    const snapshot = await storage.getSnapshot(contextOf(req), req.params.id);
    return sendJson(reply, 200, { snapshot: snapshotView(snapshot, versionOf(req), extended(req)) });
  });

  app.put<Params<'id'>>('/v3/snapshots/:id', { config: API }, async (req, reply) => {
    validate(req, schemas.updateSnapshot, req.body);
    const s = bodyObject(bodyObject(req.body).snapshot);
    const patch: { name?: string | null; description?: string | null } = {};
    if ('name' in s || 'display_name' in s) patch.name = optionalString('name' in s ? s.name : s.display_name);
    if ('description' in s || 'display_description' in s) patch.description = optionalString('description' in s ? s.description : s.display_description);
    const updated = await storage.updateSnapshot(contextOf(req), req.params.id, patch);
    return sendJson(reply, 200, { snapshot: snapshotView(updated, versionOf(req), false) });
  });

  app.delete<Params<'id'>>('/v3/snapshots/:id', { config: API }, async (req, reply) => {
    await storage.deleteSnapshot(contextOf(req), req.params.id);
    // Cinder's delete answers with a bare webob response.
    return sendEmpty(reply, 202, 'text/html; charset=UTF-8');
  });

  registerSnapshotActionRoutes(app, deps);
  registerSnapshotMetadataRoutes(app, deps);
}
