// Domain records of generic volume groups, shared by the workflow (which produces them)
// and the API views (which render them).

export interface GroupTypeRecord {
  id: string;
  name: string;
  description: string | null;
  isPublic: boolean;
  groupSpecs: Record<string, string | null>;
}

export interface GroupRecord {
  id: string;
  projectId: string;
  name: string | null;
  description: string | null;
  status: string;
  availabilityZone: string;
  groupTypeId: string;
  volumeTypeIds: string[];
  /** Member volumes' ids. */
  volumeIds: string[];
  groupSnapshotId: string | null;
  sourceGroupId: string | null;
  createdAt: Date;
}

export interface GroupSnapshotRecord {
  id: string;
  groupId: string;
  projectId: string;
  groupTypeId: string;
  name: string | null;
  description: string | null;
  status: string;
  createdAt: Date;
}

export interface GroupTypeRequest {
  name: string;
  description?: string | null;
  isPublic: boolean;
  groupSpecs?: Record<string, string | null>;
}

export interface GroupTypePatch {
  name?: string | null;
  description?: string | null;
  isPublic?: boolean;
}

export interface CreateGroupRequest {
  name?: string | null;
  description?: string | null;
  /** Id or name. */
  groupType: string;
  /** Ids or names. */
  volumeTypes: string[];
  availabilityZone?: string | null;
}

/** Exactly one of the two sources. */
export interface CreateGroupFromSourceRequest {
  name?: string | null;
  description?: string | null;
  groupSnapshotId?: string | null;
  sourceGroupId?: string | null;
}

export interface UpdateGroupRequest {
  name?: string | null;
  description?: string | null;
  /** Comma-separated volume ids, as on the wire. */
  addVolumes?: string | null;
  removeVolumes?: string | null;
}

/** Cinder's GroupStatus.ALL (group snapshots have the same but in-use). */
export const GROUP_STATUSES = ['error', 'available', 'creating', 'deleting', 'deleted', 'updating', 'in-use', 'error_deleting'] as const;
export const GROUP_SNAPSHOT_STATUSES = ['error', 'available', 'creating', 'deleting', 'deleted', 'updating', 'error_deleting'] as const;
