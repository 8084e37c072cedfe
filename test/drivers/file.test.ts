import assert from 'node:assert/strict';
import { stat, statfs, writeFile, readFile, open } from 'node:fs/promises';
import { test } from 'node:test';
import { FileVolumeDriver } from '../../src/drivers/file/driver.js';
import { createVolumeDriver } from '../../src/drivers/registry.js';
import '../../src/drivers/all.js';
import { tempDir } from '../helpers/env.js';

const GiB = 1024 ** 3;
/** Cinder's defaults: twenty times the filesystem may be promised, nothing held back. */
const ctx = (dataDir: string) => ({ dataDir, maxOverSubscriptionRatio: 20, reservedPercentage: 0 });

test('the file driver is registered under "file"', async (t) => {
  const driver = createVolumeDriver('file', ctx(await tempDir(t)));
  assert.ok(driver instanceof FileVolumeDriver);
});

test('create makes a sparse file of the size, idempotently and without losing data', async (t) => {
  const dataDir = await tempDir(t);
  const driver = new FileVolumeDriver(ctx(dataDir));
  await driver.start();
  assert.equal(await driver.hasVolume('v1'), false);
  await driver.createVolume('v1', 2);
  const path = driver.volumePath('v1');
  assert.equal(path, `${dataDir}/volumes/volume-v1`);
  const info = await stat(path);
  assert.equal(info.size, 2 * GiB);
  assert.ok(info.blocks * 512 < 1024 * 1024, 'sparse: no data blocks allocated');
  const handle = await open(path, 'r+');
  await handle.write(Buffer.from('keep me'), 0, 7, 4096);
  await handle.close();
  await driver.createVolume('v1', 2);
  assert.equal((await stat(path)).size, 2 * GiB);
  const back = Buffer.alloc(7);
  const reader = await open(path, 'r');
  await reader.read(back, 0, 7, 4096);
  await reader.close();
  assert.equal(back.toString(), 'keep me');
});

test('extend grows the file; a smaller or equal size changes nothing; a missing volume is an error', async (t) => {
  const driver = new FileVolumeDriver(ctx(await tempDir(t)));
  await driver.start();
  await driver.createVolume('v2', 1);
  await driver.extendVolume('v2', 3);
  assert.equal((await stat(driver.volumePath('v2'))).size, 3 * GiB);
  await driver.extendVolume('v2', 2);
  assert.equal((await stat(driver.volumePath('v2'))).size, 3 * GiB);
  await assert.rejects(driver.extendVolume('missing', 2), /does not exist/);
});

test('delete removes the file and succeeds when it is already gone', async (t) => {
  const driver = new FileVolumeDriver(ctx(await tempDir(t)));
  await driver.start();
  await driver.createVolume('v3', 1);
  await driver.deleteVolume('v3');
  assert.equal(await driver.hasVolume('v3'), false);
  await driver.deleteVolume('v3');
  await writeFile(driver.volumePath('v4'), 'x');
  assert.equal(await readFile(driver.volumePath('v4'), 'utf8'), 'x');
  assert.equal(await driver.hasVolume('v4'), true);
});

test('stats: the filesystem holding the volumes, thin, with every volume and snapshot counted at full size', async (t) => {
  const dataDir = await tempDir(t);
  const driver = new FileVolumeDriver({ dataDir, maxOverSubscriptionRatio: 7.5, reservedPercentage: 3 });
  await driver.start();
  const empty = await driver.getVolumeStats();
  const fs = await statfs(dataDir);
  assert.equal(empty.total_capacity_gb, Math.round((fs.blocks * fs.bsize * 100) / GiB) / 100);
  // Free space moves as anything on the machine writes; a GiB of slack covers that.
  assert.ok(Math.abs(empty.free_capacity_gb - (fs.bavail * fs.bsize) / GiB) < 1, `${empty.free_capacity_gb} free`);
  assert.ok(empty.free_capacity_gb <= empty.total_capacity_gb);
  assert.deepEqual(
    { ...empty, total_capacity_gb: 0, free_capacity_gb: 0 },
    {
      total_capacity_gb: 0,
      free_capacity_gb: 0,
      provisioned_capacity_gb: 0,
      thin_provisioning_support: true,
      thick_provisioning_support: false,
      max_over_subscription_ratio: 7.5,
      reserved_percentage: 3,
      total_volumes: 0,
      vendor_name: 'Cinderblock',
      driver_version: '1.0.0',
      storage_protocol: 'iSCSI',
    },
  );
  await driver.createVolume('a', 3);
  await driver.createVolume('b', 1);
  await driver.createSnapshot('b', 's1');
  const used = await driver.getVolumeStats();
  assert.equal(used.provisioned_capacity_gb, 5);
  assert.equal(used.total_volumes, 2);
  // Sparse: five GiB promised, next to nothing taken.
  assert.ok(empty.free_capacity_gb - used.free_capacity_gb < 1);
});

test('a size no file can have is refused in words before anything is made', async (t) => {
  const driver = new FileVolumeDriver(ctx(await tempDir(t)));
  await driver.start();
  await assert.rejects(driver.createVolume('huge', 100_000_000), {
    message: 'a volume of 100000000 GiB cannot be made: the file driver makes volumes of at most 8388607 GiB',
  });
  assert.equal(await driver.hasVolume('huge'), false);
  await driver.createVolume('small', 1);
  await assert.rejects(driver.extendVolume('small', 100_000_000), /cannot be made: the file driver makes volumes of at most 8388607 GiB/);
  await assert.rejects(driver.cloneVolume('copy', 'small', 100_000_000), /cannot be made/);
  await assert.rejects(driver.createVolume('half', 1.5), /must be a whole number of GiB/);
  assert.equal((await stat(driver.volumePath('small'))).size, GiB);
  // Within what Node can express, the filesystem may still refuse (ext4 stops at 16 TiB).
  const big = 1_000_000;
  try {
    await driver.createVolume('big', big);
    assert.equal((await stat(driver.volumePath('big'))).size, big * GiB);
  } catch (err) {
    assert.match((err as Error).message, /^a volume of 1000000 GiB cannot be made: the filesystem holding \S+ allows no file that large$/);
    assert.equal(await driver.hasVolume('big'), false, 'nothing is left to pass for the volume');
  }
});

test('backend objects: listed by name in whole GiB, adopted by renaming, never outside their directory', async (t) => {
  const dataDir = await tempDir(t);
  const driver = new FileVolumeDriver(ctx(dataDir));
  await driver.start();
  await driver.createVolume('v1', 1);
  await writeFile(`${dataDir}/volumes/odd`, Buffer.alloc(10));
  await writeFile(`${dataDir}/volumes/volume-v2.cloning`, Buffer.alloc(10));
  await writeFile(`${dataDir}/snapshots/snapshot-s1`, Buffer.alloc(10));
  assert.deepEqual(await driver.listBackendObjects('volume'), [
    { name: 'odd', sizeGiB: 1 },
    { name: 'volume-v1', sizeGiB: 1 },
  ]);
  assert.deepEqual(await driver.listBackendObjects('snapshot'), [{ name: 'snapshot-s1', sizeGiB: 1 }]);
  assert.equal(await driver.sizeOfExisting('volume', 'odd'), 1);
  await assert.rejects(driver.sizeOfExisting('volume', '../snapshots/snapshot-s1'), /no file \.\.\/snapshots\/snapshot-s1 in/);
  await assert.rejects(driver.sizeOfExisting('snapshot', 'missing'), /no file missing in/);

  await driver.manageExisting('volume', 'v3', 'odd');
  assert.equal((await stat(driver.volumePath('v3'))).size, GiB, 'grown to whole GiB');
  await assert.rejects(stat(`${dataDir}/volumes/odd`), { code: 'ENOENT' });
  await driver.manageExisting('snapshot', 's2', 'snapshot-s1');
  assert.deepEqual(await driver.listBackendObjects('snapshot'), [{ name: 'snapshot-s2', sizeGiB: 1 }]);
  // Adopting an object under the name it already has changes nothing.
  await driver.manageExisting('volume', 'v1', 'volume-v1');
  assert.equal((await stat(driver.volumePath('v1'))).size, GiB);
});
