import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { open, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { test } from 'node:test';
import { assertTempestSchema, requireTempestSchemas } from '../helpers/tempest-schema.js';
import type { TestService } from '../helpers/service.js';
import { action, assertEmpty, assertFault, createVolume, forEachDatabase, serviceOn } from './support.js';

const GiB = 1024 ** 3;

async function waitFor<T>(what: string, probe: () => Promise<T | undefined>): Promise<T> {
  for (const deadline = Date.now() + 20_000; Date.now() < deadline; await new Promise((r) => setTimeout(r, 25))) {
    const found = await probe();
    if (found !== undefined) return found;
  }
  throw new Error(`${what} did not happen`);
}

const gone = (s: TestService, path: string) => waitFor(`${path} gone`, async () => ((await s.request('GET', path)).status === 404 ? true : undefined));
const snapshotIn = (s: TestService, id: string, status: string) =>
  waitFor(`snapshot ${id} ${status}`, async () => {
    const res = await s.request('GET', `snapshots/${id}`);
    return res.body?.snapshot?.status === status ? res.body.snapshot : undefined;
  });

async function sizeOnDisk(path: string): Promise<number | null> {
  return stat(path).then(
    (st) => st.size,
    () => null,
  );
}

async function usage(s: TestService): Promise<{ volumes: number; gigabytes: number; snapshots: number }> {
  const set = (await s.request('GET', `os-quota-sets/${s.projectId}?usage=True`)).body.quota_set;
  return { volumes: set.volumes.in_use, gigabytes: set.gigabytes.in_use, snapshots: set.snapshots.in_use };
}

async function hostOf(s: TestService, volumeId: string): Promise<string> {
  return (await s.request('GET', `volumes/${volumeId}`)).body.volume['os-vol-host-attr:host'];
}

forEachDatabase('manage and unmanage API', (db) => {
  test('a volume unmanaged keeps its file, which manage adopts again under the new id', async (t) => {
    if (!requireTempestSchemas(t)) return;
    const s = await serviceOn(t, db().name);
    const volumes = join(s.config.dataDir, 'volumes');
    const original = await createVolume(s, { size: 2 });
    const host = await hostOf(s, original.id);
    const unmanaged = await action(s, original.id, { 'os-unmanage': {} });
    assertEmpty(unmanaged, 202);
    await assertTempestSchema(unmanaged, 'volumes.unmanage_volume');
    await gone(s, `volumes/${original.id}`);
    assert.equal(await sizeOnDisk(join(volumes, `volume-${original.id}`)), 2 * GiB, 'the file stays');
    assert.deepEqual(await usage(s), { volumes: 0, gigabytes: 0, snapshots: 0 });

    const listed = await s.request('GET', `manageable_volumes/detail?host=${encodeURIComponent(host)}`, { version: '3.8' });
    assert.equal(listed.status, 200, listed.text);
    assert.deepEqual(listed.body['manageable-volumes'], [
      { reference: { 'source-name': `volume-${original.id}` }, size: 2, safe_to_manage: true, reason_not_safe: null, cinder_id: null, extra_info: null },
    ]);

    const managed = await s.request('POST', 'os-volume-manage', {
      body: { volume: { host, ref: { 'source-name': `volume-${original.id}` }, name: ' adopted ', volume_type: '__DEFAULT__', availability_zone: 'nova' } },
    });
    await assertTempestSchema(managed, 'manage_volume.manage_volume');
    const adopted = managed.body.volume;
    assert.deepEqual([adopted.status, adopted.name], ['creating', 'adopted'], 'a volume being managed shows as creating, as in Cinder');
    const ready = await s.waitForVolume(adopted.id, ['available', 'error']);
    assert.deepEqual([ready.status, ready.size, ready.volume_type, ready['os-vol-host-attr:host']], ['available', 2, '__DEFAULT__', host]);
    assert.equal(await sizeOnDisk(join(volumes, `volume-${original.id}`)), null);
    assert.equal(await sizeOnDisk(join(volumes, `volume-${adopted.id}`)), 2 * GiB, 'renamed to the new id');
    assert.deepEqual(await usage(s), { volumes: 1, gigabytes: 2, snapshots: 0 });

    const summary = await s.request('GET', `os-volume-manage?host=${encodeURIComponent(host)}`);
    assert.deepEqual(summary.body['manageable-volumes'], [{ reference: { 'source-name': `volume-${adopted.id}` }, size: 2, safe_to_manage: false }]);
    const detail = (await s.request('GET', `manageable_volumes/detail?host=${encodeURIComponent(host)}`, { version: '3.8' })).body['manageable-volumes'][0];
    assert.deepEqual([detail.reason_not_safe, detail.cinder_id], ['already managed', adopted.id]);
    assertFault(
      await s.request('POST', 'os-volume-manage', { body: { volume: { host, ref: { 'source-name': `volume-${adopted.id}` } } } }),
      400,
      'badRequest',
      'Invalid volume: Unable to manage existing volume. The volume is already managed',
    );
  });

  test('a file the service never made becomes a volume of whole GiB, grown to them', async (t) => {
    const s = await serviceOn(t, db().name);
    const probe = await createVolume(s);
    const host = await hostOf(s, probe.id);
    const legacy = join(s.config.dataDir, 'volumes', 'legacy-disk');
    const handle = await open(legacy, 'w');
    await handle.write('boot sector', 0);
    await handle.truncate(1.5 * GiB);
    await handle.close();
    const res = await s.request('POST', 'os-volume-manage', { body: { volume: { host, ref: { 'source-name': 'legacy-disk' }, bootable: true } } });
    assert.equal(res.status, 202, res.text);
    const ready = await s.waitForVolume(res.body.volume.id, ['available', 'error']);
    assert.deepEqual([ready.status, ready.size, ready.bootable], ['available', 2, 'true']);
    const adopted = join(s.config.dataDir, 'volumes', `volume-${ready.id}`);
    assert.equal(await sizeOnDisk(adopted), 2 * GiB);
    const start = Buffer.alloc(11);
    const reader = await open(adopted, 'r');
    await reader.read(start, 0, 11, 0);
    await reader.close();
    assert.equal(start.toString(), 'boot sector', 'the blocks are the file’s own');

    const missing = await s.request('POST', 'os-volume-manage', { body: { volume: { host, ref: { 'source-name': 'no-such-file' } } } });
    assert.equal(missing.status, 202);
    assert.equal((await s.waitForVolume(missing.body.volume.id, ['available', 'error'])).status, 'error', 'error_managing shows as error');
    const noName = await s.request('POST', 'os-volume-manage', { body: { volume: { host, ref: { 'source-id': 'x' } } } });
    assert.equal((await s.waitForVolume(noName.body.volume.id, ['available', 'error'])).status, 'error');
    assert.deepEqual(await usage(s), { volumes: 4, gigabytes: 3, snapshots: 0 }, 'a volume that failed to be managed holds no gigabytes');
    assertEmpty(await s.request('DELETE', `volumes/${missing.body.volume.id}`), 202);
  });

  test('snapshots: unmanage keeps the file, manage adopts it for the volume', async (t) => {
    if (!requireTempestSchemas(t)) return;
    const s = await serviceOn(t, db().name);
    const volume = await createVolume(s);
    const host = await hostOf(s, volume.id);
    const snapshot = (await s.request('POST', 'snapshots', { body: { snapshot: { volume_id: volume.id } } })).body.snapshot;
    await snapshotIn(s, snapshot.id, 'available');
    assertFault(await action(s, volume.id, { 'os-unmanage': {} }), 400, 'badRequest', /must not be migrating, attached, belong to a group, have snapshots/);

    const unmanaged = await s.request('POST', `snapshots/${snapshot.id}/action`, { body: { 'os-unmanage': {} } });
    assertEmpty(unmanaged, 202);
    await assertTempestSchema(unmanaged, 'snapshots.unmanage_snapshot');
    await gone(s, `snapshots/${snapshot.id}`);
    const file = join(s.config.dataDir, 'snapshots', `snapshot-${snapshot.id}`);
    assert.equal(await sizeOnDisk(file), GiB, 'the file stays');
    assert.deepEqual(await usage(s), { volumes: 1, gigabytes: 1, snapshots: 0 });
    const listed = await s.request('GET', `manageable_snapshots?host=${encodeURIComponent(host)}`, { version: '3.8' });
    assert.deepEqual(listed.body['manageable-snapshots'], [
      { reference: { 'source-name': `snapshot-${snapshot.id}` }, size: 1, safe_to_manage: true, source_reference: null },
    ]);

    const metadata = { 'manage-snap-meta1': 'value1' };
    const managed = await s.request('POST', 'os-snapshot-manage', {
      version: '3.70',
      body: { snapshot: { volume_id: volume.id, ref: { 'source-name': `snapshot-${snapshot.id}` }, name: 'again', description: 'd', metadata } },
    });
    await assertTempestSchema(managed, 'manage_snapshot.manage_snapshot');
    const ready = await snapshotIn(s, managed.body.snapshot.id, 'available');
    assert.deepEqual([ready.volume_id, ready.size, ready.name, ready.description, ready.metadata], [volume.id, 1, 'again', 'd', metadata]);
    assert.equal(await sizeOnDisk(file), null);
    assert.equal(await sizeOnDisk(join(s.config.dataDir, 'snapshots', `snapshot-${ready.id}`)), GiB);
    assert.deepEqual(await usage(s), { volumes: 1, gigabytes: 2, snapshots: 1 });
    const detail = (await s.request('GET', `os-snapshot-manage/detail?host=${encodeURIComponent(host)}`)).body['manageable-snapshots'][0];
    assert.deepEqual([detail.safe_to_manage, detail.reason_not_safe, detail.cinder_id, detail.source_reference], [false, 'already managed', ready.id, { 'source-name': `volume-${volume.id}` }]);

    assertEmpty(await s.request('DELETE', `snapshots/${ready.id}`), 202);
    assertFault(await s.request('POST', `snapshots/${ready.id}/action`, { body: { 'os-unmanage': {} } }), 400, 'badRequest', /Snapshot status must be available or error/);
    assertFault(await s.request('POST', `snapshots/${ready.id}/action`, { body: { 'os-nope': {} } }), 400, 'badRequest', /There is no such action: os-nope/);
  });

  test("Cinder's refusals: host, version, schemas, sort keys, unknown objects", async (t) => {
    const s = await serviceOn(t, db().name);
    const volume = await createVolume(s);
    const host = await hostOf(s, volume.id);
    assertFault(await s.request('POST', 'os-volume-manage', { body: { volume: { ref: { 'source-name': 'x' } } } }), 400, 'badRequest', 'Host field is missing.');
    assertFault(await s.request('POST', 'os-volume-manage', { version: '3.16', body: { volume: { ref: { 'source-name': 'x' } } } }), 400, 'badRequest', 'One and only one of cluster and host must be set.');
    assertFault(await s.request('POST', 'os-volume-manage', { body: { volume: { host: 'elsewhere@file', ref: { 'source-name': 'x' } } } }), 400, 'badRequest', "Host 'elsewhere@file' not found");
    assertFault(await s.request('POST', 'os-volume-manage', { body: { volume: { host, ref: {}, volume_type: 'gold' } } }), 400, 'badRequest', "Invalid volume type: Cannot find requested 'gold' volume type");
    assertFault(await s.request('POST', 'os-volume-manage', { body: { volume: { host } } }), 400, 'badRequest', /ref/);
    assertFault(await s.request('POST', 'os-volume-manage', { body: { volume: { host, ref: {}, cluster: 'c' } } }), 400, 'badRequest', /cluster/);
    assertFault(await s.request('GET', `manageable_volumes?host=${encodeURIComponent(host)}`, { version: '3.7' }), 404, 'itemNotFound');
    assertFault(await s.request('GET', 'manageable_volumes', { version: '3.8' }), 400, 'badRequest', 'Host field is missing.');
    assertFault(await s.request('GET', 'os-volume-manage?host=elsewhere@file'), 404, 'itemNotFound', 'Service None could not be found on host elsewhere@file.');
    assertFault(await s.request('GET', `os-volume-manage?host=${encodeURIComponent(host)}&sort=name`), 400, 'badRequest', 'Invalid sort keys passed: name');
    assertFault(await s.request('GET', `os-volume-manage?host=${encodeURIComponent(host)}&marker=nope`), 400, 'badRequest', 'Invalid input received: marker nope can not be analysed, please use json like format');
    const page = await s.request('GET', `os-volume-manage?host=${encodeURIComponent(host)}&sort=size:asc&limit=1&offset=0`);
    assert.equal(page.body['manageable-volumes'].length, 1);
    const missing = randomUUID();
    assertFault(await s.request('POST', 'os-snapshot-manage', { body: { snapshot: { volume_id: missing, ref: {} } } }), 404, 'itemNotFound', `Volume ${missing} could not be found.`);
    assertFault(await s.request('POST', 'os-snapshot-manage', { body: { snapshot: { volume_id: volume.id } } }), 400, 'badRequest', /ref/);
    assertFault(await action(s, missing, { 'os-unmanage': {} }), 404, 'itemNotFound', `Volume ${missing} could not be found.`);
    assertFault(await s.request('POST', `snapshots/${missing}/action`, { body: { 'os-unmanage': {} } }), 404, 'itemNotFound', `Snapshot ${missing} could not be found.`);
    assert.equal((await action(s, volume.id, { 'os-reserve': {} })).status, 202);
    assertFault(await action(s, volume.id, { 'os-unmanage': {} }), 400, 'badRequest', /Volume status must be available/);
  });
});
