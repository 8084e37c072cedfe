import type { GroupRecord, GroupSnapshotRecord, GroupTypeRecord } from '../../volumes/group-records.js';
import type { ApiVersion } from '../microversion.js';
import { naiveUtc } from './format.js';

/** Cinder's group type view; the specs only for callers group:access_group_types_specs lets see them. */
export function groupTypeView(type: GroupTypeRecord, showSpecs: boolean) {
  return {
    id: type.id,
    name: type.name,
    description: type.description,
    is_public: type.isPublic,
    ...(showSpecs ? { group_specs: type.groupSpecs } : {}),
  };
}

export function groupSummary(group: GroupRecord) {
  return { id: group.id, name: group.name };
}

/** What a group's detail shows beyond its fields: its volumes (3.25, when asked) and project (3.58, by policy). */
export interface GroupDetailShows {
  volumes: boolean;
  project: boolean;
}

export function groupDetail(group: GroupRecord, version: ApiVersion, shows: GroupDetailShows) {
  return {
    id: group.id,
    status: group.status,
    availability_zone: group.availabilityZone,
    created_at: naiveUtc(group.createdAt),
    name: group.name,
    description: group.description,
    group_type: group.groupTypeId,
    volume_types: group.volumeTypeIds,
    ...(version.atLeast('3.14') ? { group_snapshot_id: group.groupSnapshotId, source_group_id: group.sourceGroupId } : {}),
    ...(version.atLeast('3.25') && shows.volumes ? { volumes: group.volumeIds } : {}),
    // Group replication is not implemented, so no group has it.
    ...(version.atLeast('3.38') ? { replication_status: 'disabled' } : {}),
    ...(version.atLeast('3.58') && shows.project ? { project_id: group.projectId } : {}),
  };
}

/** The summary of a create; the list's summary has no group_type_id (Cinder drops it there). */
export function groupSnapshotSummary(groupSnapshot: GroupSnapshotRecord, withType: boolean) {
  return { id: groupSnapshot.id, name: groupSnapshot.name, ...(withType ? { group_type_id: groupSnapshot.groupTypeId } : {}) };
}

export function groupSnapshotDetail(groupSnapshot: GroupSnapshotRecord, version: ApiVersion, showProject: boolean) {
  return {
    id: groupSnapshot.id,
    group_id: groupSnapshot.groupId,
    group_type_id: groupSnapshot.groupTypeId,
    status: groupSnapshot.status,
    created_at: naiveUtc(groupSnapshot.createdAt),
    name: groupSnapshot.name,
    description: groupSnapshot.description,
    ...(version.atLeast('3.58') && showProject ? { project_id: groupSnapshot.projectId } : {}),
  };
}
