import type { FastifyInstance } from 'fastify';
import { USER_ATTACHMENT_FILTERS, USER_VOLUME_FILTERS } from '../../volumes/listing.js';
import type { QueryParams } from '../query.js';
import { serviceView } from '../views/services.js';
import { contextOf, sendJson, versionOf, type RouteDeps } from './common.js';

const API = { api: true } as const;

export function registerMiscRoutes(app: FastifyInstance, { storage, config }: RouteDeps): void {
  // No quotas are enforced, which Cinder spells -1; usage is real.
  app.get('/v3/limits', { config: API }, async (req, reply) => {
    const { volumes } = await storage.listVolumes(contextOf(req), { filters: {}, sort: [], allTenants: false });
    return sendJson(reply, 200, {
      limits: {
        rate: [],
        absolute: {
          maxTotalVolumes: -1,
          maxTotalVolumeGigabytes: -1,
          maxTotalSnapshots: -1,
          maxTotalBackups: -1,
          maxTotalBackupGigabytes: -1,
          totalVolumesUsed: volumes.length,
          totalGigabytesUsed: volumes.reduce((sum, v) => sum + v.size, 0),
          totalSnapshotsUsed: 0,
          totalBackupsUsed: 0,
          totalBackupGigabytesUsed: 0,
        },
      },
    });
  });

  app.get('/v3/os-availability-zone', { config: API }, async (_req, reply) =>
    sendJson(reply, 200, {
      availabilityZoneInfo: [{ zoneName: config.availabilityZone, zoneState: { available: true } }],
    }),
  );

  // Who serves: each storage host's cinder-volume, up while its heartbeat is recent.
  app.get('/v3/os-services', { config: API }, async (req, reply) => {
    const query = req.query as QueryParams;
    const one = (value: string | string[] | undefined) => (Array.isArray(value) ? value[value.length - 1] : value);
    const filters: { host?: string; binary?: string } = {};
    const host = one(query.host);
    const binary = one(query.binary);
    if (host !== undefined) filters.host = host;
    if (binary !== undefined) filters.binary = binary;
    const services = await storage.listServices(contextOf(req), filters);
    const version = versionOf(req);
    return sendJson(reply, 200, { services: services.map((service) => serviceView(service, version)) });
  });

  // 3.33: which filters a non-administrator may use on each list.
  app.get('/v3/resource_filters', { config: { ...API, minVersion: '3.33' } }, async (req, reply) => {
    const all = [
      { resource: 'volume', filters: [...USER_VOLUME_FILTERS] },
      { resource: 'attachment', filters: [...USER_ATTACHMENT_FILTERS] },
    ];
    const wanted = (req.query as QueryParams).resource;
    return sendJson(reply, 200, { resource_filters: wanted ? all.filter((f) => f.resource === wanted) : all });
  });
}
