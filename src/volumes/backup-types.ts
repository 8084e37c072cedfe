// Backup records shared by the workflow (which produces them) and the API views.

export const BACKUP_STATUSES = ['creating', 'available', 'deleting', 'deleted', 'restoring', 'error', 'error_deleting'] as const;

export interface BackupRecord {
  id: string;
  volumeId: string;
  snapshotId: string | null;
  projectId: string;
  userId: string;
  status: string;
  failReason: string | null;
  name: string | null;
  description: string | null;
  availabilityZone: string | null;
  container: string | null;
  size: number;
  objectCount: number;
  isIncremental: boolean;
  hasDependentBackups: boolean;
  metadata: Record<string, string>;
  dataTimestamp: Date | null;
  createdAt: Date;
  updatedAt: Date | null;
}

export interface CreateBackupRequest {
  volumeId: string;
  snapshotId?: string | null;
  name?: string | null;
  description?: string | null;
  container?: string | null;
  incremental: boolean;
  /** Allows a backup of an in-use volume. */
  force: boolean;
  metadata?: Record<string, string> | null;
  availabilityZone?: string | null;
}

export interface UpdateBackupRequest {
  name?: string | null;
  description?: string | null;
  metadata?: Record<string, string>;
}

/** Cinder's restore answer: the backup, the volume it is written into and that volume's name. */
export interface RestoreRecord {
  backupId: string;
  volumeId: string;
  volumeName: string | null;
}

/** export_record's answer, which import_record takes back. */
export interface BackupExport {
  backupService: string;
  backupUrl: string;
}
