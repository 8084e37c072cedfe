import { execFile } from 'node:child_process';
import { constants } from 'node:fs';
import { copyFile, mkdir, open, rename, rm, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import type { VolumeDriver, VolumeDriverContext } from '../driver.js';

const GiB = 1024 ** 3;
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

  constructor(ctx: VolumeDriverContext) {
    this.dir = join(ctx.dataDir, 'volumes');
    this.snapshotDir = join(ctx.dataDir, 'snapshots');
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
    const handle = await open(this.volumePath(volumeId), 'a');
    try {
      const { size } = await handle.stat();
      if (size < sizeGiB * GiB) await handle.truncate(sizeGiB * GiB);
      await handle.sync();
    } finally {
      await handle.close();
    }
  }

  async deleteVolume(volumeId: string): Promise<void> {
    await rm(partialOf(this.volumePath(volumeId)), { force: true });
    await rm(this.volumePath(volumeId), { force: true });
  }

  async extendVolume(volumeId: string, newSizeGiB: number): Promise<void> {
    const size = await this.currentSize(volumeId);
    if (size === null) throw new Error(`volume-${volumeId} does not exist in ${this.dir}`);
    if (size >= newSizeGiB * GiB) return;
    const handle = await open(this.volumePath(volumeId), 'r+');
    try {
      await handle.truncate(newSizeGiB * GiB);
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
