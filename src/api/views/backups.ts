import type { BackupRecord } from '../../volumes/backup-types.js';
import type { Urls } from '../links.js';
import type { ApiVersion } from '../microversion.js';
import { naiveUtc, naiveUtcOrNull } from './format.js';

export interface BackupViewEnv {
  version: ApiVersion;
  urls: Urls;
  /** backup:backup_project_attribute lets the caller see project_id (3.18) and user_id (3.56). */
  showsOwner: boolean;
}

function linksOf(backup: BackupRecord, env: BackupViewEnv) {
  return env.urls.links(`backups/${backup.id}`);
}

export function backupSummary(backup: BackupRecord, env: BackupViewEnv) {
  return { id: backup.id, name: backup.name, links: linksOf(backup, env) };
}

/**
 * Cinder's detail view. encryption_key_id (3.64) appears only for a backup of an encrypted
 * volume, which this service has none of, so it never does.
 */
export function backupDetail(backup: BackupRecord, env: BackupViewEnv) {
  const { version } = env;
  return {
    id: backup.id,
    status: backup.status,
    size: backup.size,
    object_count: backup.objectCount,
    availability_zone: backup.availabilityZone,
    container: backup.container,
    created_at: naiveUtc(backup.createdAt),
    updated_at: naiveUtcOrNull(backup.updatedAt),
    name: backup.name,
    description: backup.description,
    fail_reason: backup.failReason,
    volume_id: backup.volumeId,
    links: linksOf(backup, env),
    is_incremental: backup.isIncremental,
    has_dependent_backups: backup.hasDependentBackups,
    snapshot_id: backup.snapshotId,
    data_timestamp: naiveUtcOrNull(backup.dataTimestamp),
    ...(version.atLeast('3.43') ? { metadata: backup.metadata } : {}),
    ...(version.atLeast('3.18') && env.showsOwner ? { 'os-backup-project-attr:project_id': backup.projectId } : {}),
    ...(version.atLeast('3.56') && env.showsOwner ? { user_id: backup.userId } : {}),
  };
}
