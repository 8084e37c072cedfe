import type { FastifyInstance } from 'fastify';
import { pyRepr } from '../../errors.js';
import type { Connector } from '../../volumes/types.js';
import { ApiFault } from '../faults.js';
import * as schemas from '../schemas/actions.js';
import { toBool } from '../validation.js';
import { pickAction, type ActionHandler } from './actions.js';
import { retypeActions } from './retype.js';
import { bodyObject, contextOf, optionalString, sendEmpty, sendJson, validate, versionOf, type Params, type RouteDeps } from './common.js';

/** The value under the action's key, after its schema passed. */
function args(body: unknown, key: string): Record<string, unknown> {
  return bodyObject(bodyObject(body)[key]);
}

// Cinder accepts a connector given as a string and then finds none of the keys a
// driver needs in it; an empty connector gets the workflow to say the same.
function connectorOf(value: unknown): Connector {
  return bodyObject(value);
}

function connectorOrNull(value: unknown): Connector | null {
  return value === null || value === undefined ? null : connectorOf(value);
}

export function registerVolumeActionRoutes(app: FastifyInstance, { storage }: RouteDeps): void {
  const actions: Record<string, ActionHandler> = {
    ...retypeActions(storage),
    'os-extend': {
      async run(req, reply, id) {
        validate(req, schemas.extend, req.body);
        const newSize = Number(args(req.body, 'os-extend').new_size);
        // From 3.42 an in-use volume may grow too.
        await storage.extendVolume(contextOf(req), id, newSize, { allowAttached: versionOf(req).atLeast('3.42') });
        return sendEmpty(reply, 202);
      },
    },
    'os-set_bootable': {
      async run(req, reply, id) {
        validate(req, schemas.setBootable, req.body);
        await storage.setBootable(contextOf(req), id, toBool(args(req.body, 'os-set_bootable').bootable));
        return sendEmpty(reply, 200);
      },
    },
    'os-update_readonly_flag': {
      async run(req, reply, id) {
        validate(req, schemas.updateReadonlyFlag, req.body);
        await storage.updateReadonlyFlag(contextOf(req), id, toBool(args(req.body, 'os-update_readonly_flag').readonly));
        return sendEmpty(reply, 202);
      },
    },
    'os-reserve': {
      async run(req, reply, id) {
        await storage.reserve(contextOf(req), id);
        return sendEmpty(reply, 202);
      },
    },
    'os-unreserve': {
      async run(req, reply, id) {
        await storage.unreserve(contextOf(req), id);
        return sendEmpty(reply, 202);
      },
    },
    'os-begin_detaching': {
      async run(req, reply, id) {
        await storage.beginDetaching(contextOf(req), id);
        return sendEmpty(reply, 202);
      },
    },
    'os-roll_detaching': {
      async run(req, reply, id) {
        await storage.rollDetaching(contextOf(req), id);
        return sendEmpty(reply, 202);
      },
    },
    'os-initialize_connection': {
      async run(req, reply, id) {
        validate(req, schemas.initializeConnection, req.body);
        const connector = connectorOf(args(req.body, 'os-initialize_connection').connector);
        const info = await storage.initializeConnection(contextOf(req), id, connector);
        return sendJson(reply, 200, { connection_info: info });
      },
    },
    'os-attach': {
      async run(req, reply, id) {
        validate(req, schemas.attach, req.body);
        const a = args(req.body, 'os-attach');
        await storage.attach(contextOf(req), id, {
          instanceUuid: optionalString(a.instance_uuid),
          hostName: optionalString(a.host_name),
          mountpoint: String(a.mountpoint),
          mode: a.mode === 'ro' ? 'ro' : 'rw',
        });
        return sendEmpty(reply, 202);
      },
    },
    'os-terminate_connection': {
      async run(req, reply, id) {
        validate(req, schemas.terminateConnection, req.body);
        const connector = connectorOrNull(args(req.body, 'os-terminate_connection').connector);
        await storage.terminateConnection(contextOf(req), id, connector, false);
        return sendEmpty(reply, 202);
      },
    },
    'os-detach': {
      async run(req, reply, id) {
        validate(req, schemas.detach, req.body);
        const attachmentId = optionalString(args(req.body, 'os-detach').attachment_id);
        await storage.detach(contextOf(req), id, attachmentId);
        return sendEmpty(reply, 202);
      },
    },
    'os-force_detach': {
      async run(req, reply, id) {
        const ctx = contextOf(req);
        validate(req, schemas.forceDetach, req.body);
        const a = args(req.body, 'os-force_detach');
        await storage.forceDetach(ctx, id, connectorOrNull(a.connector), optionalString(a.attachment_id));
        return sendEmpty(reply, 202);
      },
    },
    'os-reset_status': {
      async run(req, reply, id) {
        const ctx = contextOf(req);
        validate(req, schemas.resetStatus, req.body);
        const a = args(req.body, 'os-reset_status');
        if (!a.status && !a.attach_status && !a.migration_status) {
          throw new ApiFault(400, "Must specify 'status', 'attach_status' or 'migration_status' for update.");
        }
        await storage.resetStatus(ctx, id, {
          ...(a.status ? { status: String(a.status) } : {}),
          ...(a.attach_status ? { attachStatus: String(a.attach_status) } : {}),
          ...(a.migration_status ? { migrationStatus: String(a.migration_status) } : {}),
        });
        return sendEmpty(reply, 202);
      },
    },
    'os-force_delete': {
      async run(req, reply, id) {
        const ctx = contextOf(req);
        await storage.deleteVolume(ctx, id, { force: true, cascade: false, adminAction: true });
        return sendEmpty(reply, 202);
      },
    },
    revert: {
      minVersion: '3.40',
      async run(req, reply, id) {
        const revert = bodyObject(req.body).revert;
        if (!revert || typeof revert !== 'object' || Array.isArray(revert)) throw new ApiFault(400, "Missing required element 'revert' in request body.");
        const snapshotId = (revert as Record<string, unknown>).snapshot_id;
        // Cinder compares whatever it was given with the latest snapshot's id, and prints it.
        const named = snapshotId === undefined || snapshotId === null ? null : typeof snapshotId === 'string' ? snapshotId : pyRepr(snapshotId);
        await storage.revertToSnapshot(contextOf(req), id, named);
        return sendEmpty(reply, 202);
      },
    },
    'os-reimage': {
      minVersion: '3.68',
      async run(req, _reply, id) {
        validate(req, schemas.reimage, req.body);
        await storage.getVolume(contextOf(req), id);
        // There is no image store behind this service, so no image id can name an image.
        throw new ApiFault(404, `Image ${String(args(req.body, 'os-reimage').image_id)} could not be found.`);
      },
    },
  };

  app.post<Params<'id'>>('/v3/volumes/:id/action', { config: { api: true } }, async (req, reply) => {
    const action = pickAction(req.body, actions, versionOf(req));
    return action.run(req, reply, req.params.id);
  });
}
