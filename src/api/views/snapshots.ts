import type { SnapshotRecord } from '../../volumes/types.js';
import type { ApiVersion } from '../microversion.js';
import { naiveUtc, naiveUtcOrNull } from './format.js';

/**
 * Cinder's snapshot view; show and detail add the extended attributes, later microversions
 * three fields. version null: the summary view of a plain list, which has neither.
 */
export function snapshotView(snapshot: SnapshotRecord, version: ApiVersion | null, detail: boolean) {
  return {
    id: snapshot.id,
    created_at: naiveUtc(snapshot.createdAt),
    updated_at: naiveUtcOrNull(snapshot.updatedAt),
    name: snapshot.name,
    description: snapshot.description,
    volume_id: snapshot.volumeId,
    status: snapshot.status,
    size: snapshot.size,
    metadata: snapshot.metadata,
    ...(detail
      ? {
          'os-extended-snapshot-attributes:progress': snapshot.progress,
          'os-extended-snapshot-attributes:project_id': snapshot.projectId,
        }
      : {}),
    ...(version?.atLeast('3.14') ? { group_snapshot_id: snapshot.groupSnapshotId } : {}),
    ...(version?.atLeast('3.41') ? { user_id: snapshot.userId } : {}),
    ...(version?.atLeast('3.65') ? { consumes_quota: true } : {}),
  };
}
