import { mkdir, open, readFile, rename, rm } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import type { BackupDriver, BackupLocation, BackupManifest, BackupStoreContext } from './driver.js';
import { registerBackupDriver } from './registry.js';

/** Any container name as one directory name, never a way out of the store ('/' and a leading '.' escaped). */
function safe(component: string): string {
  if (component === '') throw new Error('an empty name cannot name a directory in the backup store');
  return encodeURIComponent(component).replace(/^\./, '%2E');
}

/** Writes beside the target and renames onto it, so a file that exists is whole. */
async function writeWhole(path: string, data: Buffer | string): Promise<void> {
  await mkdir(dirname(path), { recursive: true });
  const partial = `${path}.partial`;
  const handle = await open(partial, 'w');
  try {
    await handle.writeFile(data);
    await handle.sync();
  } finally {
    await handle.close();
  }
  await rename(partial, path);
}

/**
 * Cinder's posix driver: a directory (an NFS mount, a second disk) holding a directory per
 * container and one per backup under it, with a file per stored chunk and the manifest.
 */
export class PosixBackupDriver implements BackupDriver {
  readonly service = 'cinder.backup.drivers.posix.PosixBackupDriver';
  private readonly root: string;

  constructor(ctx: BackupStoreContext) {
    this.root = ctx.path || join(ctx.dataDir, 'backups');
  }

  async start(): Promise<void> {
    await mkdir(this.root, { recursive: true });
  }

  private dirOf(at: BackupLocation): string {
    return join(this.root, safe(at.container), safe(at.prefix));
  }

  private chunkPath(at: BackupLocation, index: number): string {
    return join(this.dirOf(at), `chunk-${String(index).padStart(6, '0')}`);
  }

  writeChunk(at: BackupLocation, index: number, data: Buffer): Promise<void> {
    return writeWhole(this.chunkPath(at, index), data);
  }

  readChunk(at: BackupLocation, index: number): Promise<Buffer> {
    return readFile(this.chunkPath(at, index));
  }

  writeManifest(at: BackupLocation, manifest: BackupManifest): Promise<void> {
    return writeWhole(join(this.dirOf(at), 'manifest.json'), JSON.stringify(manifest));
  }

  async readManifest(at: BackupLocation): Promise<BackupManifest | null> {
    try {
      return JSON.parse(await readFile(join(this.dirOf(at), 'manifest.json'), 'utf8')) as BackupManifest;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return null;
      throw err;
    }
  }

  async delete(at: BackupLocation): Promise<void> {
    await rm(this.dirOf(at), { recursive: true, force: true });
  }
}

registerBackupDriver('posix', (ctx) => new PosixBackupDriver(ctx));
