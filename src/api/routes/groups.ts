import type { FastifyInstance, FastifyRequest } from 'fastify';
import { GROUP_STATUSES, GROUP_SNAPSHOT_STATUSES } from '../../volumes/group-records.js';
import { pyTuple } from '../../errors.js';
import { ApiFault } from '../faults.js';
import { planGroupList, type QueryParams } from '../query.js';
import * as schemas from '../schemas/groups.js';
import { parseBoolParam, toBool } from '../validation.js';
import { groupDetail, groupSummary } from '../views/groups.js';
import { pickAction, type ActionHandler } from './actions.js';
import { bodyObject, contextOf, nextLinks, optionalString, sendEmpty, sendJson, shown, urlsOf, validate, versionOf, WEBOB_EMPTY, type Params, type RouteDeps } from './common.js';

const API = { api: true, minVersion: '3.13' } as const;

/**
 * Cinder's group_status format check. It tests the status against the group snapshot
 * statuses while naming the group ones, so `in-use` is refused; kept as Cinder has it.
 */
function checkGroupStatus(status: string): string {
  if (status.trim().length === 0) throw new ApiFault(400, "Invalid Group Status: The 'status' can not be empty.");
  if (!(GROUP_SNAPSHOT_STATUSES as readonly string[]).includes(status.toLowerCase())) {
    throw new ApiFault(400, `Invalid Group Status: Group status: ${status} is invalid, valid status are: ${pyTuple(GROUP_STATUSES)}.`);
  }
  return status.toLowerCase();
}

/** The reset_status action of groups and group snapshots: the status checked by `check`, then set by `reset`. */
export function resetStatusAction(
  minVersion: string,
  check: (status: string) => string,
  reset: (req: FastifyRequest, id: string, status: string) => Promise<void>,
): ActionHandler {
  return {
    minVersion,
    async run(req, reply, id) {
      validate(req, schemas.resetStatus, req.body);
      await reset(req, id, check(String(bodyObject(bodyObject(req.body).reset_status).status)));
      return sendEmpty(reply, 202, WEBOB_EMPTY);
    },
  };
}

export function registerGroupRoutes(app: FastifyInstance, deps: RouteDeps): void {
  const { storage, policy, config } = deps;

  async function list(req: FastifyRequest, detail: boolean) {
    const params = req.query as QueryParams;
    const query = planGroupList(params, contextOf(req), ['list_volume']);
    const groups = await storage.listGroups(contextOf(req), query);
    const version = versionOf(req);
    const listVolumes = params.list_volume !== undefined && parseBoolParam('list_volume', String(params.list_volume));
    const project = shown(req, policy, 'group:group_project_attribute');
    const links = nextLinks(req, urlsOf(req, config), detail ? 'groups/detail' : 'groups', groups, params.limit === undefined ? undefined : query.limit);
    return {
      groups: groups.map((g) => (detail ? groupDetail(g, version, { volumes: listVolumes, project }) : groupSummary(g))),
      ...(links ? { group_links: links } : {}),
    };
  }

  app.get('/v3/groups', { config: API }, async (req, reply) => sendJson(reply, 200, await list(req, false)));
  app.get('/v3/groups/detail', { config: API }, async (req, reply) => sendJson(reply, 200, await list(req, true)));

  app.get<Params<'id'>>('/v3/groups/:id', { config: API }, async (req, reply) => {
    const group = await storage.getGroup(contextOf(req), req.params.id);
    const params = req.query as QueryParams;
    const volumes = params.list_volume !== undefined && parseBoolParam('list_volume', String(params.list_volume));
    return sendJson(reply, 200, { group: groupDetail(group, versionOf(req), { volumes, project: shown(req, policy, 'group:group_project_attribute') }) });
  });

  app.post('/v3/groups', { config: API }, async (req, reply) => {
    validate(req, schemas.createGroup, req.body);
    const g = bodyObject(bodyObject(req.body).group);
    const created = await storage.createGroup(contextOf(req), {
      // Cinder strips both before it stores them.
      name: optionalString(g.name)?.trim() ?? null,
      description: optionalString(g.description)?.trim() ?? null,
      groupType: String(g.group_type),
      volumeTypes: g.volume_types as string[],
      availabilityZone: optionalString(g.availability_zone),
    });
    return sendJson(reply, 202, { group: groupSummary(created) });
  });

  app.put<Params<'id'>>('/v3/groups/:id', { config: API }, async (req, reply) => {
    validate(req, schemas.updateGroup, req.body);
    const g = bodyObject(bodyObject(req.body).group);
    await storage.updateGroup(contextOf(req), req.params.id, {
      name: optionalString(g.name)?.trim() ?? null,
      description: optionalString(g.description)?.trim() ?? null,
      addVolumes: optionalString(g.add_volumes),
      removeVolumes: optionalString(g.remove_volumes),
    });
    return sendEmpty(reply, 202, WEBOB_EMPTY);
  });

  // POST /groups/action: the one collection action, a group made from a source (3.14).
  const collectionActions: Record<string, ActionHandler> = {
    'create-from-src': {
      minVersion: '3.14',
      async run(req, reply) {
        validate(req, schemas.createGroupFromSource, req.body);
        const g = bodyObject(bodyObject(req.body)['create-from-src']);
        const created = await storage.createGroupFromSource(contextOf(req), {
          name: optionalString(g.name)?.trim() ?? null,
          description: optionalString(g.description)?.trim() ?? null,
          groupSnapshotId: optionalString(g.group_snapshot_id),
          sourceGroupId: optionalString(g.source_group_id),
        });
        return sendJson(reply, 202, { group: groupSummary(created) });
      },
    },
  };
  app.post('/v3/groups/action', { config: API }, async (req, reply) => pickAction(req.body, collectionActions, versionOf(req)).run(req, reply, ''));

  const actions: Record<string, ActionHandler> = {
    delete: {
      async run(req, reply, id) {
        validate(req, schemas.deleteGroup, req.body);
        const flag = bodyObject(bodyObject(req.body).delete)['delete-volumes'];
        await storage.deleteGroup(contextOf(req), id, flag === undefined ? false : toBool(flag));
        return sendEmpty(reply, 202, WEBOB_EMPTY);
      },
    },
    reset_status: resetStatusAction('3.20', checkGroupStatus, (req, id, status) => storage.resetGroupStatus(contextOf(req), id, status)),
  };
  app.post<Params<'id'>>('/v3/groups/:id/action', { config: API }, async (req, reply) =>
    pickAction(req.body, actions, versionOf(req)).run(req, reply, req.params.id),
  );
}
