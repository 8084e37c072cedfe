import assert from 'node:assert/strict';
import { stat, writeFile, readFile, open } from 'node:fs/promises';
import { test } from 'node:test';
import { FileVolumeDriver } from '../../src/drivers/file/driver.js';
import { createVolumeDriver } from '../../src/drivers/registry.js';
import '../../src/drivers/all.js';
import { tempDir } from '../helpers/env.js';

const GiB = 1024 ** 3;

test('the file driver is registered under "file"', async (t) => {
  const driver = createVolumeDriver('file', { dataDir: await tempDir(t) });
  assert.ok(driver instanceof FileVolumeDriver);
});

test('create makes a sparse file of the size, idempotently and without losing data', async (t) => {
  const dataDir = await tempDir(t);
  const driver = new FileVolumeDriver({ dataDir });
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
  const driver = new FileVolumeDriver({ dataDir: await tempDir(t) });
  await driver.start();
  await driver.createVolume('v2', 1);
  await driver.extendVolume('v2', 3);
  assert.equal((await stat(driver.volumePath('v2'))).size, 3 * GiB);
  await driver.extendVolume('v2', 2);
  assert.equal((await stat(driver.volumePath('v2'))).size, 3 * GiB);
  await assert.rejects(driver.extendVolume('missing', 2), /does not exist/);
});

test('delete removes the file and succeeds when it is already gone', async (t) => {
  const driver = new FileVolumeDriver({ dataDir: await tempDir(t) });
  await driver.start();
  await driver.createVolume('v3', 1);
  await driver.deleteVolume('v3');
  assert.equal(await driver.hasVolume('v3'), false);
  await driver.deleteVolume('v3');
  await writeFile(driver.volumePath('v4'), 'x');
  assert.equal(await readFile(driver.volumePath('v4'), 'utf8'), 'x');
  assert.equal(await driver.hasVolume('v4'), true);
});
