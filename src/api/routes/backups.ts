import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { UpdateBackupRequest } from '../../volumes/backup-types.js';
import { planBackupList, type QueryParams } from '../query.js';
import * as schemas from '../schemas/backups.js';
import { toBool } from '../validation.js';
import { backupDetail, backupSummary, type BackupViewEnv } from '../views/backups.js';
import { pickAction, type ActionHandler } from './actions.js';
import {
  bodyObject,
  contextOf,
  listBody,
  optionalString,
  sendEmpty,
  sendJson,
  shown,
  urlsOf,
  validate,
  versionOf,
  type Params,
  type RouteDeps,
} from './common.js';

const API = { api: true } as const;

export function registerBackupRoutes(app: FastifyInstance, { storage, config, policy }: RouteDeps): void {
  const envOf = (req: FastifyRequest): BackupViewEnv => ({
    version: versionOf(req),
    urls: urlsOf(req, config),
    showsOwner: shown(req, policy, 'backup:backup_project_attribute'),
  });

  async function list(req: FastifyRequest, detail: boolean) {
    const ctx = contextOf(req);
    const env = envOf(req);
    const plan = planBackupList(req.query as QueryParams, ctx, env.version);
    const { backups, count } = await storage.listBackups(ctx, plan.query);
    return listBody(req, env.urls, 'backups', detail, backups, plan, count, (b) => (detail ? backupDetail(b, env) : backupSummary(b, env)));
  }

  app.get('/v3/backups', { config: API }, async (req, reply) => sendJson(reply, 200, await list(req, false)));
  app.get('/v3/backups/detail', { config: API }, async (req, reply) => sendJson(reply, 200, await list(req, true)));

  app.post('/v3/backups', { config: API }, async (req, reply) => {
    const version = versionOf(req);
    validate(req, version.atLeast('3.51') ? schemas.createBackupV351 : version.atLeast('3.43') ? schemas.createBackupV343 : schemas.createBackup, req.body);
    const b = bodyObject(bodyObject(req.body).backup);
    const created = await storage.createBackup(contextOf(req), {
      volumeId: String(b.volume_id),
      snapshotId: optionalString(b.snapshot_id),
      name: optionalString(b.name),
      description: optionalString(b.description),
      container: optionalString(b.container),
      incremental: b.incremental === undefined ? false : toBool(b.incremental),
      force: b.force === undefined ? false : toBool(b.force),
      metadata: version.atLeast('3.43') ? ((b.metadata as Record<string, string> | null | undefined) ?? null) : null,
      availabilityZone: version.atLeast('3.51') ? optionalString(b.availability_zone) : null,
    });
    return sendJson(reply, 202, { backup: backupSummary(created, envOf(req)) });
  });

  app.get<Params<'id'>>('/v3/backups/:id', { config: API }, async (req, reply) => {
    const backup = await storage.getBackup(contextOf(req), req.params.id);
    return sendJson(reply, 200, { backup: backupDetail(backup, envOf(req)) });
  });

  app.put<Params<'id'>>('/v3/backups/:id', { config: { ...API, minVersion: '3.9' } }, async (req, reply) => {
    const withMetadata = versionOf(req).atLeast('3.43');
    validate(req, withMetadata ? schemas.updateBackupV343 : schemas.updateBackup, req.body);
    const b = bodyObject(bodyObject(req.body).backup);
    const patch: UpdateBackupRequest = {};
    if ('name' in b) patch.name = optionalString(b.name);
    if ('description' in b) patch.description = optionalString(b.description);
    if (withMetadata && b.metadata) patch.metadata = b.metadata as Record<string, string>;
    const updated = await storage.updateBackup(contextOf(req), req.params.id, patch);
    return sendJson(reply, 200, { backup: backupSummary(updated, envOf(req)) });
  });

  app.delete<Params<'id'>>('/v3/backups/:id', { config: API }, async (req, reply) => {
    await storage.deleteBackup(contextOf(req), req.params.id, { force: false });
    return sendEmpty(reply, 202);
  });

  app.post<Params<'id'>>('/v3/backups/:id/restore', { config: API }, async (req, reply) => {
    validate(req, schemas.restoreBackup, req.body);
    const r = bodyObject(bodyObject(req.body).restore);
    const restore = await storage.restoreBackup(contextOf(req), req.params.id, { volumeId: optionalString(r.volume_id), name: optionalString(r.name) });
    // Cinder shows the volume's name as it is: null for a volume without one, though tempest's schema wants a string.
    return sendJson(reply, 202, { restore: { backup_id: restore.backupId, volume_id: restore.volumeId, volume_name: restore.volumeName } });
  });

  app.get<Params<'id'>>('/v3/backups/:id/export_record', { config: API }, async (req, reply) => {
    const exported = await storage.exportBackupRecord(contextOf(req), req.params.id);
    return sendJson(reply, 200, { 'backup-record': { backup_service: exported.backupService, backup_url: exported.backupUrl } });
  });

  app.post('/v3/backups/import_record', { config: API }, async (req, reply) => {
    validate(req, schemas.importRecord, req.body);
    const record = bodyObject(bodyObject(req.body)['backup-record']);
    const imported = await storage.importBackupRecord(contextOf(req), { backupService: String(record.backup_service), backupUrl: String(record.backup_url) });
    return sendJson(reply, 201, { backup: backupSummary(imported, envOf(req)) });
  });

  const actions: Record<string, ActionHandler> = {
    'os-reset_status': {
      async run(req, reply, id) {
        validate(req, schemas.resetBackupStatus, req.body);
        const status = String(bodyObject(bodyObject(req.body)['os-reset_status']).status);
        await storage.resetBackupStatus(contextOf(req), id, status);
        return sendEmpty(reply, 202);
      },
    },
    'os-force_delete': {
      async run(req, reply, id) {
        validate(req, schemas.forceDeleteBackup, req.body);
        await storage.deleteBackup(contextOf(req), id, { force: true });
        return sendEmpty(reply, 202);
      },
    },
  };

  app.post<Params<'id'>>('/v3/backups/:id/action', { config: API }, async (req, reply) => {
    const action = pickAction(req.body, actions, versionOf(req));
    return action.run(req, reply, req.params.id);
  });
}
