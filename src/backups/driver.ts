// Where backups live. One file per store (posix.ts), registered in registry.ts; the
// storage host reads a volume's blocks and hands them to the store chunk by chunk.

/** Where one backup's objects are: Cinder's container and the prefix its objects are named by. */
export interface BackupLocation {
  container: string;
  prefix: string;
}

/** The chunk size and each chunk's digest, so an incremental backup can tell what changed. */
export interface BackupManifest {
  chunkSize: number;
  /** The bytes of the volume the backup was taken of. */
  size: number;
  /** By chunk index: null for a chunk of zeros (never stored), else its sha256 in hex. */
  chunks: (string | null)[];
  /** The chunk indexes this backup stored itself; the others are its parent's (or zeros). */
  stored: number[];
}

export interface BackupStoreContext {
  dataDir: string;
  /** Where the store keeps its objects; empty for its default under dataDir. */
  path: string;
}

export interface BackupDriver {
  /** The name Cinder records as the backup's service, which export_record reports and import_record must match. */
  readonly service: string;
  start(): Promise<void>;
  /** Stores one chunk's bytes. Idempotent: a chunk written again is replaced whole. */
  writeChunk(at: BackupLocation, index: number, data: Buffer): Promise<void>;
  readChunk(at: BackupLocation, index: number): Promise<Buffer>;
  /** Written last: a backup with a manifest is complete. */
  writeManifest(at: BackupLocation, manifest: BackupManifest): Promise<void>;
  /** The manifest, or null when the backup is not (or not completely) in the store. */
  readManifest(at: BackupLocation): Promise<BackupManifest | null>;
  /** Idempotent: deleting a backup that is not there succeeds. */
  delete(at: BackupLocation): Promise<void>;
}
