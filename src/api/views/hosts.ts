import type { BackendCapabilities, HostRecord, HostUsage } from '../../volumes/hosts-admin.js';
import { naiveUtcOrNull } from './format.js';

/** One entry of os-hosts, under Cinder's hyphenated names. */
export function hostView(host: HostRecord) {
  return {
    host_name: host.host,
    service: host.service,
    zone: host.zone,
    'service-status': host.available ? 'available' : 'unavailable',
    'service-state': host.disabled ? 'disabled' : 'enabled',
    'last-update': naiveUtcOrNull(host.updatedAt),
  };
}

/** os-hosts show: Cinder prints every number as a string. */
export function hostUsageView(host: string, usage: HostUsage) {
  return {
    resource: {
      host,
      project: usage.project,
      volume_count: String(usage.volumeCount),
      total_volume_gb: String(usage.volumeGigabytes),
      snapshot_count: String(usage.snapshotCount),
      total_snapshot_gb: String(usage.snapshotGigabytes),
    },
  };
}

/**
 * Cinder's capabilities summary. A storage protocol kept as all its spellings is shown as
 * the first; what the backend does not say is null.
 */
export function capabilitiesView({ serviceHost, capabilities: c }: BackendCapabilities) {
  const protocol = Array.isArray(c.storage_protocol) ? c.storage_protocol[0] : c.storage_protocol;
  const field = (name: string) => c[name] ?? null;
  return {
    namespace: `OS::Storage::Capabilities::${serviceHost}`,
    vendor_name: field('vendor_name'),
    volume_backend_name: field('volume_backend_name'),
    pool_name: field('pool_name'),
    driver_version: field('driver_version'),
    storage_protocol: protocol ?? null,
    display_name: field('display_name'),
    description: field('description'),
    visibility: field('visibility'),
    replication_targets: c.replication_targets ?? [],
    properties: field('properties'),
  };
}
