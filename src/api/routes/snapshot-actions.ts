import type { FastifyInstance } from 'fastify';
import { ApiFault } from '../faults.js';
import * as schemas from '../schemas/snapshots.js';
import { pickAction, type ActionHandler } from './actions.js';
import { bodyObject, contextOf, sendEmpty, validate, versionOf, type Params, type RouteDeps } from './common.js';

/** Python's type name, for the TypeError Cinder's progress check raises on anything but a string. */
function pyTypeName(value: unknown): string {
  if (typeof value === 'boolean') return 'bool';
  if (typeof value === 'number') return Number.isInteger(value) ? 'int' : 'float';
  return Array.isArray(value) ? 'list' : 'dict';
}

/** Cinder's 'progress' format: empty, or an integer percentage "0%" to "100%". */
function checkProgress(progress: unknown): void {
  if (!progress) return;
  if (typeof progress !== 'string') throw new ApiFault(400, `'${pyTypeName(progress)}' object is not subscriptable`);
  const digits = progress.slice(0, -1);
  if (!/^\s*[-+]?\d+\s*$/.test(digits)) throw new ApiFault(400, 'Invalid input received: progress must be an integer percentage');
  const value = Number(digits);
  if (value < 0 || value > 100 || !progress.endsWith('%')) {
    throw new ApiFault(400, 'Invalid input received: progress must be an integer percentage between 0 and 100');
  }
}

export function registerSnapshotActionRoutes(app: FastifyInstance, { storage }: RouteDeps): void {
  const actions: Record<string, ActionHandler> = {
    'os-reset_status': {
      async run(req, reply, id) {
        validate(req, schemas.resetSnapshotStatus, req.body);
        await storage.resetSnapshotStatus(contextOf(req), id, String(bodyObject(bodyObject(req.body)['os-reset_status']).status));
        return sendEmpty(reply, 202);
      },
    },
    'os-update_snapshot_status': {
      async run(req, reply, id) {
        validate(req, schemas.updateSnapshotStatus, req.body);
        const a = bodyObject(bodyObject(req.body)['os-update_snapshot_status']);
        checkProgress(a.progress);
        const progress = typeof a.progress === 'string' && a.progress ? a.progress : undefined;
        await storage.updateSnapshotStatus(contextOf(req), id, { status: String(a.status), ...(progress ? { progress } : {}) });
        // This one answers with a bare webob response.
        return sendEmpty(reply, 202, 'text/html; charset=UTF-8');
      },
    },
    'os-force_delete': {
      async run(req, reply, id) {
        await storage.deleteSnapshot(contextOf(req), id, { force: true });
        return sendEmpty(reply, 202);
      },
    },
  };

  app.post<Params<'id'>>('/v3/snapshots/:id/action', { config: { api: true } }, async (req, reply) => {
    const action = pickAction(req.body, actions, versionOf(req));
    return action.run(req, reply, req.params.id);
  });
}
