import { execFile } from 'node:child_process';
import { constants } from 'node:fs';
import { copyFile, mkdir, open, readdir, rename, rm, stat, statfs } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import type { VolumeDriver, VolumeDriverContext, VolumeStats } from '../driver.js';

const GiB = 1024 ** 3;
/** Node sets a file's length as a double: past this it refuses with a RangeError rather than a filesystem's EFBIG. */
const MAX_GIB = Math.floor(Number.MAX_SAFE_INTEGER / GiB);
const VERSION = '1.0.0';
const execFileAsync = promisify(execFile);

/** The file's size, or null when there is none. */
async function sizeOf(path: string): Promise<number | null> {
  try {
    return (await stat(path)).size;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw err;
  }
}

/** GiB as Cinder reports capacity: two decimals. */
function gib(bytes: number): number {
  return Math.round((bytes / GiB) * 100) / 100;
}

/** The bytes of a volume of sizeGiB, or a plain refusal of a size no file here can have. */
function bytesOf(sizeGiB: number): number {
  if (!Number.isInteger(sizeGiB) || sizeGiB < 1) throw new Error(`a volume of ${sizeGiB} GiB cannot be made: the size must be a whole number of GiB, at least 1`);
  if (sizeGiB > MAX_GIB) throw new Error(`a volume of ${sizeGiB} GiB cannot be made: the file driver makes volumes of at most ${MAX_GIB} GiB`);
  return sizeGiB * GiB;
}

/** Sets the file's length; a filesystem that cannot hold a file that long says so in words. */
async function growTo(handle: Awaited<ReturnType<typeof open>>, bytes: number, dir: string): Promise<void> {
  try {
    await handle.truncate(bytes);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'EFBIG' || code === 'EINVAL') throw new Error(`a volume of ${bytes / GiB} GiB cannot be made: the filesystem holding ${dir} allows no file that large`);
    throw err;
  }
}

/** The apparent sizes of the files in `dir` (what they would take fully written), and how many there are. */
async function provisioned(dir: string): Promise<{ bytes: number; files: number }> {
  let bytes = 0;
  const names = await readdir(dir);
  for (const name of names) bytes += (await sizeOf(join(dir, name))) ?? 0;
  return { bytes, files: names.length };
}

/** Where a copy is made before it is renamed onto `path`. */
function partialOf(path: string): string {
  return `${path}.cloning`;
}

/**
 * Each volume is a sparse file `<dataDir>/volumes/volume-<id>`: creating one costs no
 * disk until it is written, and the target helpers export a regular file directly.
 */
export class FileVolumeDriver implements VolumeDriver {
  readonly name = 'file';
  private readonly dir: string;
  private readonly snapshotDir: string;

  constructor(private readonly ctx: VolumeDriverContext) {
    this.dir = join(ctx.dataDir, 'volumes');
    this.snapshotDir = join(ctx.dataDir, 'snapshots');
  }

  /**
   * The filesystem holding the volumes is the backend. Its files are sparse, so a volume
   * takes space only as it is written: thin provisioning, with what every volume and
   * snapshot would take if fully written as the provisioned capacity.
   */
  async getVolumeStats(): Promise<VolumeStats> {
    const fs = await statfs(this.dir);
    const volumes = await provisioned(this.dir);
    const snapshots = await provisioned(this.snapshotDir);
    return {
      total_capacity_gb: gib(fs.blocks * fs.bsize),
      // What an unprivileged writer may still use: the space kept for root is not the volumes'.
      free_capacity_gb: gib(fs.bavail * fs.bsize),
      provisioned_capacity_gb: gib(volumes.bytes + snapshots.bytes),
      thin_provisioning_support: true,
      thick_provisioning_support: false,
      max_over_subscription_ratio: this.ctx.maxOverSubscriptionRatio,
      reserved_percentage: this.ctx.reservedPercentage,
      total_volumes: volumes.files,
      vendor_name: 'Cinderblock',
      driver_version: VERSION,
      storage_protocol: 'iSCSI',
    };
  }

  async start(): Promise<void> {
    await mkdir(this.dir, { recursive: true });
    await mkdir(this.snapshotDir, { recursive: true });
  }

  private snapshotPath(snapshotId: string): string {
    return join(this.snapshotDir, `snapshot-${snapshotId}`);
  }

  volumePath(volumeId: string): string {
    return join(this.dir, `volume-${volumeId}`);
  }

  async hasVolume(volumeId: string): Promise<boolean> {
    return (await this.currentSize(volumeId)) !== null;
  }

  async createVolume(volumeId: string, sizeGiB: number): Promise<void> {
    // 'a' never truncates an existing file: a retried create keeps data a first attempt
    // may already hold, and only ever grows the file to the requested size.
    const bytes = bytesOf(sizeGiB);
    const handle = await open(this.volumePath(volumeId), 'a');
    let empty = false;
    try {
      const { size } = await handle.stat();
      empty = size === 0;
      if (size < bytes) await growTo(handle, bytes, this.dir);
      await handle.sync();
    } catch (err) {
      await handle.close();
      // A file that never held anything is not left behind to pass for the volume.
      if (empty) await rm(this.volumePath(volumeId), { force: true });
      throw err;
    }
    await handle.close();
  }

  async deleteVolume(volumeId: string): Promise<void> {
    await rm(partialOf(this.volumePath(volumeId)), { force: true });
    await rm(this.volumePath(volumeId), { force: true });
  }

  async extendVolume(volumeId: string, newSizeGiB: number): Promise<void> {
    const bytes = bytesOf(newSizeGiB);
    const size = await this.currentSize(volumeId);
    if (size === null) throw new Error(`volume-${volumeId} does not exist in ${this.dir}`);
    if (size >= bytes) return;
    const handle = await open(this.volumePath(volumeId), 'r+');
    try {
      await growTo(handle, bytes, this.dir);
      await handle.sync();
    } finally {
      await handle.close();
    }
  }

  async cloneVolume(volumeId: string, sourceId: string, sizeGiB: number): Promise<void> {
    await this.copyOnce(this.volumePath(sourceId), this.volumePath(volumeId));
    await this.extendVolume(volumeId, sizeGiB);
  }

  async createSnapshot(volumeId: string, snapshotId: string): Promise<void> {
    await this.copyOnce(this.volumePath(volumeId), this.snapshotPath(snapshotId));
  }

  async deleteSnapshot(snapshotId: string): Promise<void> {
    await rm(partialOf(this.snapshotPath(snapshotId)), { force: true });
    await rm(this.snapshotPath(snapshotId), { force: true });
  }

  async createVolumeFromSnapshot(volumeId: string, snapshotId: string, sizeGiB: number): Promise<void> {
    await this.copyOnce(this.snapshotPath(snapshotId), this.volumePath(volumeId));
    await this.extendVolume(volumeId, sizeGiB);
  }

  async revertToSnapshot(volumeId: string, snapshotId: string): Promise<void> {
    if ((await this.currentSize(volumeId)) === null) throw new Error(`volume-${volumeId} does not exist in ${this.dir}`);
    if ((await sizeOf(this.snapshotPath(snapshotId))) === null) throw new Error(`snapshot-${snapshotId} does not exist in ${this.snapshotDir}`);
    await this.copySparse(this.snapshotPath(snapshotId), this.volumePath(volumeId));
  }

  /**
   * The copy is made beside the target and renamed onto it when complete, so a file
   * that exists is a whole copy (and is kept), and a retry after a crash starts again.
   */
  private async copyOnce(from: string, to: string): Promise<void> {
    if ((await sizeOf(to)) !== null) return;
    const partial = partialOf(to);
    await this.copySparse(from, partial);
    await rename(partial, to);
  }

  /**
   * A reflink where the filesystem has them (instant, no space until either side is
   * written); otherwise coreutils' sparse copy, which skips the source's holes
   * (SEEK_DATA) rather than reading them and leaves all-zero blocks holes, so a mostly
   * empty volume clones in milliseconds into a mostly empty file.
   */
  private async copySparse(from: string, to: string): Promise<void> {
    try {
      await copyFile(from, to, constants.COPYFILE_FICLONE_FORCE);
    } catch {
      try {
        await execFileAsync('cp', ['--sparse=always', '--', from, to]);
      } catch (err) {
        const stderr = String((err as { stderr?: unknown }).stderr ?? '').trim();
        throw new Error(`copying ${from} to ${to} failed: ${stderr || (err as Error).message}`);
      }
    }
    const copied = await open(to, 'r+');
    try {
      await copied.sync();
    } finally {
      await copied.close();
    }
  }

  private currentSize(volumeId: string): Promise<number | null> {
    return sizeOf(this.volumePath(volumeId));
  }

}
