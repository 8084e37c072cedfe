// The storage host's half of backups: a volume's (or snapshot's) blocks copied into the
// backup store in chunks, and written back on restore. Chunks of zeros are never stored,
// and an incremental backup stores only the chunks whose digest differs from its parent's.

import { createHash } from 'node:crypto';
import { open } from 'node:fs/promises';
import type { BackupDriver, BackupLocation, BackupManifest } from '../backups/driver.js';

export const CHUNK_SIZE = 4 * 1024 * 1024;
const ZEROS = Buffer.alloc(CHUNK_SIZE);

function isZero(data: Buffer): boolean {
  return data.equals(data.length === CHUNK_SIZE ? ZEROS : ZEROS.subarray(0, data.length));
}

function digestOf(data: Buffer): string {
  return createHash('sha256').update(data).digest('hex');
}

/** One backup to take: where it goes, and the backup it adds to (an incremental's parent). */
export interface BackupRequest {
  at: BackupLocation;
  parent: BackupLocation | null;
}

/** What a finished backup holds: Cinder's object_count (the chunks stored, and the manifest). */
export interface BackupResult {
  objectCount: number;
  /** The store's name, recorded as the backup's service. */
  service: string;
}

type Handle = Awaited<ReturnType<typeof open>>;

/** Reads into `buffer` (reused from chunk to chunk: reading a sparse volume is mostly zero-filling). */
async function readAt(handle: Handle, offset: number, length: number, buffer: Buffer): Promise<Buffer> {
  let done = 0;
  while (done < length) {
    const { bytesRead } = await handle.read(buffer, done, length - done, offset + done);
    if (bytesRead === 0) break;
    done += bytesRead;
  }
  return buffer.subarray(0, done);
}

export class BackupCopier {
  constructor(private readonly store: BackupDriver) {}

  /** Copies the file at `source` into the store; the manifest, written last, makes the backup whole. */
  async backup(source: string, req: BackupRequest): Promise<BackupResult> {
    const parent = req.parent ? await this.store.readManifest(req.parent) : null;
    if (req.parent && !parent) throw new Error(`the parent backup's data is not in the backup store (${req.parent.container}/${req.parent.prefix})`);
    if (parent && parent.chunkSize !== CHUNK_SIZE) throw new Error('the parent backup was taken with another chunk size');
    const handle = await open(source, 'r');
    try {
      const { size, blocks } = await handle.stat();
      const manifest: BackupManifest = { chunkSize: CHUNK_SIZE, size, chunks: [], stored: [] };
      // Node cannot seek to a file's data (SEEK_DATA), so a volume is read whole, except one
      // never written: with no blocks allocated it is zeros throughout.
      const allHoles = blocks === 0;
      const buffer = Buffer.allocUnsafe(CHUNK_SIZE);
      for (let index = 0, offset = 0; offset < size; index++, offset += CHUNK_SIZE) {
        if (allHoles) {
          manifest.chunks.push(null);
          continue;
        }
        const data = await readAt(handle, offset, Math.min(CHUNK_SIZE, size - offset), buffer);
        const digest = isZero(data) ? null : digestOf(data);
        manifest.chunks.push(digest);
        if (digest === null || parent?.chunks[index] === digest) continue;
        await this.store.writeChunk(req.at, index, data);
        manifest.stored.push(index);
      }
      await this.store.writeManifest(req.at, manifest);
      return { objectCount: manifest.stored.length + 1, service: this.store.service };
    } finally {
      await handle.close();
    }
  }

  /**
   * Writes the backup back into the file at `target`. `chain` is the backup and its
   * ancestors, newest first: each chunk comes from the newest backup that stored it. A
   * chunk of zeros is written only where the target holds something else, so a new
   * volume stays sparse.
   */
  async restore(target: string, chain: readonly BackupLocation[]): Promise<void> {
    const manifests: BackupManifest[] = [];
    for (const at of chain) {
      const manifest = await this.store.readManifest(at);
      if (!manifest) throw new Error(`backup data is missing from the backup store (${at.container}/${at.prefix})`);
      manifests.push(manifest);
    }
    const [newest] = manifests;
    if (!newest) throw new Error('nothing to restore');
    const handle = await open(target, 'r+');
    try {
      const { size, blocks } = await handle.stat();
      if (size < newest.size) throw new Error(`the volume (${size} bytes) is smaller than the backup (${newest.size} bytes)`);
      // A file with no blocks allocated (a new volume) is zeros throughout: nothing to read to know it.
      const allHoles = blocks === 0;
      const buffer = Buffer.allocUnsafe(newest.chunkSize);
      for (let index = 0; index < newest.chunks.length; index++) {
        const offset = index * newest.chunkSize;
        const length = Math.min(newest.chunkSize, newest.size - offset);
        const digest = newest.chunks[index]!;
        if (digest === null) {
          if (!allHoles && !isZero(await readAt(handle, offset, length, buffer))) await handle.write(ZEROS, 0, length, offset);
          continue;
        }
        const holder = manifests.findIndex((m) => m.stored.includes(index));
        if (holder < 0) throw new Error(`chunk ${index} is in no backup of the chain`);
        const data = await this.store.readChunk(chain[holder]!, index);
        if (digestOf(data) !== digest) throw new Error(`chunk ${index} of the backup is damaged: its digest does not match the manifest`);
        await handle.write(data, 0, data.length, offset);
      }
      await handle.sync();
    } finally {
      await handle.close();
    }
  }

  /** Whether the backup's data is whole in this store, of `service` (an imported record points at data that must be there). */
  async has(service: string, at: BackupLocation): Promise<boolean> {
    return service === this.store.service && (await this.store.readManifest(at)) !== null;
  }

  delete(at: BackupLocation): Promise<void> {
    return this.store.delete(at);
  }
}
