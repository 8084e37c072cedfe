import type { ServiceRecord } from '../../volumes/types.js';
import type { ApiVersion } from '../microversion.js';
import { naiveUtc } from './format.js';

/** One entry of os-services, with the fields Cinder adds at 3.7 (cluster) and 3.49 (backend_state). */
export function serviceView(service: ServiceRecord, version: ApiVersion) {
  const volume = service.binary === 'cinder-volume';
  return {
    binary: service.binary,
    host: service.host,
    zone: service.zone,
    status: service.disabled ? 'disabled' : 'enabled',
    state: service.up ? 'up' : 'down',
    updated_at: naiveUtc(service.updatedAt),
    // Cinder's is the scheduler's, which holds no state for a backend it does not schedule to.
    ...(volume && version.atLeast('3.49') ? { backend_state: service.backendState } : {}),
    ...(version.atLeast('3.7') ? { cluster: null } : {}),
    // os-extended-services, which Cinder always loads.
    disabled_reason: service.disabledReason,
    ...(volume ? { replication_status: 'disabled', active_backend_id: null, frozen: service.frozen } : {}),
  };
}
