import type { FastifyInstance, FastifyRequest } from 'fastify';
import { GROUP_SNAPSHOT_STATUSES } from '../../volumes/group-records.js';
import { pyTuple } from '../../errors.js';
import { ApiFault } from '../faults.js';
import { planGroupList, type QueryParams } from '../query.js';
import * as schemas from '../schemas/groups.js';
import { groupSnapshotDetail, groupSnapshotSummary } from '../views/groups.js';
import { pickAction, type ActionHandler } from './actions.js';
import { resetStatusAction } from './groups.js';
import { bodyObject, contextOf, nextLinks, optionalString, sendEmpty, sendJson, shown, urlsOf, validate, versionOf, WEBOB_EMPTY, type Params, type RouteDeps } from './common.js';

const API = { api: true, minVersion: '3.14' } as const;

/** Cinder's group_snapshot_status format check. */
function checkGroupSnapshotStatus(status: string): string {
  if (status.trim().length === 0) throw new ApiFault(400, "Invalid GroupSnapshot Status: The 'status' can not be empty.");
  if (!(GROUP_SNAPSHOT_STATUSES as readonly string[]).includes(status.toLowerCase())) {
    throw new ApiFault(400, `Invalid GroupSnapshot Status: Group snapshot status: ${status} is invalid, valid statuses are: ${pyTuple(GROUP_SNAPSHOT_STATUSES)}.`);
  }
  return status.toLowerCase();
}

export function registerGroupSnapshotRoutes(app: FastifyInstance, deps: RouteDeps): void {
  const { storage, policy, config } = deps;

  async function list(req: FastifyRequest, detail: boolean) {
    const version = versionOf(req);
    // Paging, sorting and filters came with 3.29; before it the list is all of them.
    const params = version.atLeast('3.29') ? (req.query as QueryParams) : {};
    const query = planGroupList(params, contextOf(req));
    const groupSnapshots = await storage.listGroupSnapshots(contextOf(req), query);
    const project = shown(req, policy, 'group:group_snapshot_project_attribute');
    const path = detail ? 'group_snapshots/detail' : 'group_snapshots';
    const links = nextLinks(req, urlsOf(req, config), path, groupSnapshots, params.limit === undefined ? undefined : query.limit);
    return {
      group_snapshots: groupSnapshots.map((s) => (detail ? groupSnapshotDetail(s, version, project) : groupSnapshotSummary(s, false))),
      ...(links ? { group_snapshot_links: links } : {}),
    };
  }

  app.get('/v3/group_snapshots', { config: API }, async (req, reply) => sendJson(reply, 200, await list(req, false)));
  app.get('/v3/group_snapshots/detail', { config: API }, async (req, reply) => sendJson(reply, 200, await list(req, true)));

  app.get<Params<'id'>>('/v3/group_snapshots/:id', { config: API }, async (req, reply) => {
    const groupSnapshot = await storage.getGroupSnapshot(contextOf(req), req.params.id);
    const project = shown(req, policy, 'group:group_snapshot_project_attribute');
    return sendJson(reply, 200, { group_snapshot: groupSnapshotDetail(groupSnapshot, versionOf(req), project) });
  });

  app.post('/v3/group_snapshots', { config: API }, async (req, reply) => {
    validate(req, schemas.createGroupSnapshot, req.body);
    const s = bodyObject(bodyObject(req.body).group_snapshot);
    const created = await storage.createGroupSnapshot(contextOf(req), {
      groupId: String(s.group_id),
      name: optionalString(s.name),
      description: optionalString(s.description),
    });
    return sendJson(reply, 202, { group_snapshot: groupSnapshotSummary(created, true) });
  });

  app.delete<Params<'id'>>('/v3/group_snapshots/:id', { config: API }, async (req, reply) => {
    await storage.deleteGroupSnapshot(contextOf(req), req.params.id);
    return sendEmpty(reply, 202, WEBOB_EMPTY);
  });

  const actions: Record<string, ActionHandler> = {
    reset_status: resetStatusAction('3.19', checkGroupSnapshotStatus, (req, id, status) => storage.resetGroupSnapshotStatus(contextOf(req), id, status)),
  };
  app.post<Params<'id'>>('/v3/group_snapshots/:id/action', { config: API }, async (req, reply) =>
    pickAction(req.body, actions, versionOf(req)).run(req, reply, req.params.id),
  );
}
