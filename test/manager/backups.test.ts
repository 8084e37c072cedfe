import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { open, readdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { test } from 'node:test';
import { PosixBackupDriver } from '../../src/backups/posix.js';
import { BackupCopier, CHUNK_SIZE } from '../../src/manager/backups.js';
import { tempDir } from '../helpers/env.js';

const SIZE = 5 * CHUNK_SIZE + 1000;

async function sparseFile(path: string, size: number): Promise<void> {
  const handle = await open(path, 'w');
  await handle.truncate(size);
  await handle.close();
}

async function writeAt(path: string, offset: number, data: Buffer): Promise<void> {
  const handle = await open(path, 'r+');
  await handle.write(data, 0, data.length, offset);
  await handle.close();
}

async function setUp(t: Parameters<typeof tempDir>[0]) {
  const dir = await tempDir(t, 'cinderblock-backups-');
  const store = new PosixBackupDriver({ dataDir: dir, path: '' });
  await store.start();
  return { dir, store, copier: new BackupCopier(store) };
}

const at = (prefix: string) => ({ container: 'c', prefix });

test('a full backup stores only chunks with data; a restore gives back every byte, the odd-sized tail included', async (t) => {
  const { dir, copier } = await setUp(t);
  const source = join(dir, 'source');
  await sparseFile(source, SIZE);
  await writeAt(source, 10, randomBytes(100));
  await writeAt(source, 3 * CHUNK_SIZE + 5, randomBytes(CHUNK_SIZE));
  await writeAt(source, SIZE - 10, randomBytes(10));
  const result = await copier.backup(source, { at: at('full'), parent: null });
  const stored = (await readdir(join(dir, 'backups', 'c', 'full'))).sort();
  assert.deepEqual(stored, ['chunk-000000', 'chunk-000003', 'chunk-000004', 'chunk-000005', 'manifest.json']);
  assert.deepEqual(result, { objectCount: 5, service: 'cinder.backup.drivers.posix.PosixBackupDriver' });

  const target = join(dir, 'target');
  await sparseFile(target, SIZE + CHUNK_SIZE);
  await writeAt(target, SIZE, Buffer.from('beyond the backup'));
  await copier.restore(target, [at('full')]);
  const restored = await readFile(target);
  assert.ok(restored.subarray(0, SIZE).equals(await readFile(source)));
  assert.equal(restored.subarray(SIZE, SIZE + 17).toString(), 'beyond the backup', 'what lies past the backup is left alone');
});

test('an incremental stores the changed chunks; its chain restores the newest data, zeros written over old data', async (t) => {
  const { dir, copier } = await setUp(t);
  const source = join(dir, 'source');
  await sparseFile(source, SIZE);
  await writeAt(source, 0, randomBytes(2 * CHUNK_SIZE));
  await copier.backup(source, { at: at('full'), parent: null });
  const atFull = await readFile(source);

  await writeAt(source, CHUNK_SIZE + 7, randomBytes(3));
  await writeAt(source, 0, Buffer.alloc(CHUNK_SIZE));
  const second = await copier.backup(source, { at: at('second'), parent: at('full') });
  assert.deepEqual((await readdir(join(dir, 'backups', 'c', 'second'))).sort(), ['chunk-000001', 'manifest.json'], 'a chunk now zero is not stored either');
  assert.equal(second.objectCount, 2);
  await writeAt(source, 4 * CHUNK_SIZE, randomBytes(50));
  await copier.backup(source, { at: at('third'), parent: at('second') });
  assert.deepEqual((await readdir(join(dir, 'backups', 'c', 'third'))).sort(), ['chunk-000004', 'manifest.json']);

  // Restored over a volume holding other data: the chain's data wins everywhere.
  const target = join(dir, 'target');
  await writeFile(target, randomBytes(SIZE));
  await copier.restore(target, [at('third'), at('second'), at('full')]);
  assert.ok((await readFile(target)).equals(await readFile(source)));
  await copier.restore(target, [at('full')]);
  assert.ok((await readFile(target)).equals(atFull));
});

test('a damaged chunk, a missing parent or a missing backup fail rather than restore wrong data', async (t) => {
  const { dir, copier, store } = await setUp(t);
  const source = join(dir, 'source');
  await sparseFile(source, SIZE);
  await writeAt(source, 0, randomBytes(100));
  await copier.backup(source, { at: at('full'), parent: null });
  const target = join(dir, 'target');
  await sparseFile(target, SIZE);
  await writeFile(join(dir, 'backups', 'c', 'full', 'chunk-000000'), randomBytes(100));
  await assert.rejects(copier.restore(target, [at('full')]), /chunk 0 of the backup is damaged/);
  await assert.rejects(copier.backup(source, { at: at('child'), parent: at('gone') }), /parent backup's data is not in the backup store/);
  await assert.rejects(copier.restore(target, [at('gone')]), /backup data is missing/);
  const small = join(dir, 'small');
  await sparseFile(small, CHUNK_SIZE);
  await assert.rejects(copier.restore(small, [at('full')]), /smaller than the backup/);
  assert.equal(await copier.has('cinder.backup.drivers.posix.PosixBackupDriver', at('full')), true);
  assert.equal(await copier.has('cinder.backup.drivers.swift.SwiftBackupDriver', at('full')), false);
  await store.delete(at('full'));
  await store.delete(at('full'));
  assert.equal(await copier.has('cinder.backup.drivers.posix.PosixBackupDriver', at('full')), false);
  // A container is any name, kept inside the store.
  await store.writeChunk({ container: '../up/..', prefix: 'x' }, 0, Buffer.alloc(1));
  assert.deepEqual((await readdir(join(dir, 'backups'))).sort(), ['%2E.%2Fup%2F..', 'c']);
  assert.throws(() => store.writeChunk({ container: '', prefix: 'x' }, 0, Buffer.alloc(1)), /cannot name a directory/);
});
