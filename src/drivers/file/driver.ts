import { mkdir, open, rm, stat } from 'node:fs/promises';
import { join } from 'node:path';
import type { VolumeDriver, VolumeDriverContext } from '../driver.js';

const GiB = 1024 ** 3;

/**
 * Each volume is a sparse file `<dataDir>/volumes/volume-<id>`: creating one costs no
 * disk until it is written, and the target helpers export a regular file directly.
 */
export class FileVolumeDriver implements VolumeDriver {
  readonly name = 'file';
  private readonly dir: string;

  constructor(ctx: VolumeDriverContext) {
    this.dir = join(ctx.dataDir, 'volumes');
  }

  async start(): Promise<void> {
    await mkdir(this.dir, { recursive: true });
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

  private async currentSize(volumeId: string): Promise<number | null> {
    try {
      return (await stat(this.volumePath(volumeId))).size;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return null;
      throw err;
    }
  }
}
