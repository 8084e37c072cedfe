import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { BackendKind } from '../../volumes/manage.js';
import { ApiVersion } from '../microversion.js';
import { hostOrCluster, planManageableList, type QueryParams } from '../query.js';
import * as schemas from '../schemas/manage.js';
import { toBool } from '../validation.js';
import { manageableView } from '../views/manageable.js';
import { snapshotView } from '../views/snapshots.js';
import { volumeDetail } from '../views/volumes.js';
import { bodyObject, contextOf, optionalString, sendJson, validate, versionOf, viewEnv, type RouteDeps } from './common.js';

const API = { api: true } as const;
/** Cinder answers a manage with its v2 views, whatever the microversion. */
const V2_VIEW = new ApiVersion(3, 0);

/** A string the body gave, stripped, or null for none (Cinder keeps only non-empty ones). */
function stripped(value: unknown): string | null {
  return typeof value === 'string' && value !== '' ? value.trim() : null;
}

/**
 * Managing existing backend objects: the os-volume-manage and os-snapshot-manage
 * extensions at every microversion, and from 3.8 the same as manageable_volumes and
 * manageable_snapshots; os-unmanage on volumes and snapshots lets go of one.
 */
export function registerManageRoutes(app: FastifyInstance, deps: RouteDeps): void {
  const { storage } = deps;
  const collections: Array<{ path: string; kind: BackendKind; minVersion?: string }> = [
    { path: 'os-volume-manage', kind: 'volume' },
    { path: 'manageable_volumes', kind: 'volume', minVersion: '3.8' },
    { path: 'os-snapshot-manage', kind: 'snapshot' },
    { path: 'manageable_snapshots', kind: 'snapshot', minVersion: '3.8' },
  ];
  for (const { path, kind, minVersion } of collections) {
    const config = { ...API, ...(minVersion ? { minVersion } : {}) };
    const key = kind === 'volume' ? 'manageable-volumes' : 'manageable-snapshots';
    const list = async (req: FastifyRequest, detail: boolean) => {
      const entries = await storage.listManageable(contextOf(req), kind, planManageableList(req.query as QueryParams, versionOf(req)));
      return { [key]: entries.map((e) => manageableView(e, detail)) };
    };
    app.get(`/v3/${path}`, { config }, async (req, reply) => sendJson(reply, 200, await list(req, false)));
    app.get(`/v3/${path}/detail`, { config }, async (req, reply) => sendJson(reply, 200, await list(req, true)));
    app.post(`/v3/${path}`, { config }, async (req, reply) => (kind === 'volume' ? manageVolume(req, reply) : manageSnapshot(req, reply)));
  }

  async function manageVolume(req: FastifyRequest, reply: FastifyReply) {
    const version = versionOf(req);
    validate(req, version.atLeast('3.16') ? schemas.manageVolumeV316 : schemas.manageVolume, req.body);
    const v = bodyObject(bodyObject(req.body).volume);
    const created = await storage.manageVolume(contextOf(req), {
      host: hostOrCluster(v.host, v.cluster, version.atLeast('3.16')),
      ref: v.ref,
      name: stripped(v.name),
      description: stripped(v.description),
      volumeType: optionalString(v.volume_type) || null,
      metadata: (v.metadata as Record<string, string> | null | undefined) ?? null,
      availabilityZone: optionalString(v.availability_zone),
      bootable: v.bootable !== undefined && toBool(v.bootable),
    });
    return sendJson(reply, 202, { volume: volumeDetail(created, { ...viewEnv(req, deps), version: V2_VIEW }, false) });
  }

  async function manageSnapshot(req: FastifyRequest, reply: FastifyReply) {
    validate(req, schemas.manageSnapshot, req.body);
    const s = bodyObject(bodyObject(req.body).snapshot);
    const created = await storage.manageSnapshot(contextOf(req), {
      volumeId: String(s.volume_id),
      ref: s.ref,
      name: optionalString(s.name),
      description: optionalString(s.description),
      metadata: (s.metadata as Record<string, string> | null | undefined) ?? null,
    });
    return sendJson(reply, 202, { snapshot: snapshotView(created, V2_VIEW, false) });
  }
}
