// Cinder's quotas over HTTP: os-quota-sets and os-quota-class-sets as Cinder answers them,
// limits with real figures, every resource enforced with Cinder's 413, usage kept exact
// through creates, copies, extends and deletes, and exact under concurrent creates from
// two API services sharing one database.

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { createTestDatabase } from '../helpers/databases.js';
import { startService, type TestService } from '../helpers/service.js';
import { action, assertEmpty, assertFault, createVolume, forEachDatabase, serviceOn } from './support.js';

const DEFAULTS = { volumes: 10, per_volume_gigabytes: -1, snapshots: 10, gigabytes: 1000, backups: 10, backup_gigabytes: 1000, groups: 10 };

async function setQuota(s: TestService, values: Record<string, unknown>, project = s.projectId): Promise<Record<string, number>> {
  const res = await s.request('PUT', `os-quota-sets/${project}`, { body: { quota_set: values } });
  assert.equal(res.status, 200, res.text);
  return res.body.quota_set;
}

async function usage(s: TestService): Promise<Record<string, { limit: number; in_use: number; reserved: number }>> {
  const res = await s.request('GET', `os-quota-sets/${s.projectId}?usage=True`);
  assert.equal(res.status, 200, res.text);
  return res.body.quota_set;
}

async function inUse(s: TestService, ...resources: string[]): Promise<number[]> {
  const set = await usage(s);
  return resources.map((r) => set[r]!.in_use);
}

async function waitGone(s: TestService, path: string): Promise<void> {
  for (let i = 0; i < 400; i++) {
    if ((await s.request('GET', path)).status === 404) return;
    await new Promise((r) => setTimeout(r, 25));
  }
  assert.fail(`${path} was not deleted`);
}

async function snapshot(s: TestService, volumeId: string): Promise<string> {
  const res = await s.request('POST', 'snapshots', { body: { snapshot: { volume_id: volumeId } } });
  assert.equal(res.status, 202, res.text);
  for (let i = 0; i < 400; i++) {
    const shown = await s.request('GET', `snapshots/${res.body.snapshot.id}`);
    if (shown.body.snapshot.status === 'available') return res.body.snapshot.id;
    await new Promise((r) => setTimeout(r, 25));
  }
  assert.fail('snapshot did not become available');
}

test("quota sets, defaults and the default class answer as Cinder's do", async (t) => {
  const s = await startService(t);
  const shown = await s.request('GET', `os-quota-sets/${s.projectId}`);
  assert.equal(shown.status, 200);
  assert.deepEqual(shown.body.quota_set, {
    ...DEFAULTS,
    volumes___DEFAULT__: -1,
    gigabytes___DEFAULT__: -1,
    snapshots___DEFAULT__: -1,
    id: s.projectId,
  });
  const withUsage = await usage(s);
  assert.deepEqual(withUsage.volumes, { limit: 10, in_use: 0, reserved: 0 });
  assert.deepEqual((await s.request('GET', `os-quota-sets/${s.projectId}/defaults`)).body.quota_set.gigabytes, 1000);

  // A project's own limits; the answer to the update has no id, as Cinder's has none.
  const updated = await setQuota(s, { volumes: 3, gigabytes: '50', tenant_id: s.projectId });
  assert.equal(updated.volumes, 3);
  assert.equal(updated.gigabytes, 50);
  assert.equal('id' in updated, false);
  assert.equal((await usage(s)).volumes!.limit, 3);
  assert.equal((await s.request('GET', `os-quota-sets/${s.projectId}/defaults`)).body.quota_set.volumes, 10);

  assertFault(await s.request('PUT', `os-quota-sets/${s.projectId}`, { body: { quota_set: { nope: 1, volumes: 2 } } }), 400, 'badRequest', 'Invalid input received: Bad key(s) in quota set: nope');
  assertFault(await s.request('PUT', `os-quota-sets/${s.projectId}`, { body: { quota_set: { volumes: 'many' } } }), 400, 'badRequest', 'volumes must be an integer');
  assertFault(await s.request('PUT', `os-quota-sets/${s.projectId}`, { body: { quota_set: { volumes: -2 } } }), 400, 'badRequest', 'volumes must be >= -1');
  assertFault(await s.request('PUT', `os-quota-sets/${s.projectId}`, { body: { quota_set: {} } }), 400, 'badRequest');
  assertFault(await s.request('PUT', `os-quota-sets/${s.projectId}`, { body: { volumes: 1 } }), 400, 'badRequest');
  await createVolume(s, { size: 2 });
  await createVolume(s, { size: 2 });
  assertFault(
    await s.request('PUT', `os-quota-sets/${s.projectId}`, { body: { quota_set: { volumes: 1 } } }),
    400,
    'badRequest',
    'Quota volumes limit must be equal or greater than existing resources. Current usage is 2 and the requested limit is 1.',
  );
  assert.equal((await usage(s)).volumes!.limit, 3, 'a refused update changes nothing');

  // Delete: back to the defaults, usage untouched.
  assertEmpty(await s.request('DELETE', `os-quota-sets/${s.projectId}`), 200);
  assert.deepEqual((await usage(s)).volumes, { limit: 10, in_use: 2, reserved: 0 });

  // The default class stands in for every project without limits of its own.
  const classSet = await s.request('GET', 'os-quota-class-sets/default');
  assert.equal(classSet.status, 200);
  assert.deepEqual(classSet.body.quota_class_set, { ...DEFAULTS, volumes___DEFAULT__: -1, gigabytes___DEFAULT__: -1, snapshots___DEFAULT__: -1, id: 'default' });
  const classUpdate = await s.request('PUT', 'os-quota-class-sets/default', { body: { quota_class_set: { volumes: 7, volumes___DEFAULT__: 5 } } });
  assert.equal(classUpdate.status, 200, classUpdate.text);
  assert.equal(classUpdate.body.quota_class_set.volumes, 7);
  assert.deepEqual((await usage(s)).volumes, { limit: 7, in_use: 2, reserved: 0 });
  assert.equal((await usage(s)).volumes___DEFAULT__!.limit, 5);
  assertFault(await s.request('PUT', 'os-quota-class-sets/default', { body: { quota_class_set: { bogus: 1 } } }), 400, 'badRequest', 'Invalid input received: Bad key(s) in quota class set: bogus');

  // limits: the project's figures, the used amounts beside them.
  const limits = (await s.request('GET', 'limits')).body.limits;
  assert.deepEqual(limits, {
    rate: [],
    absolute: {
      maxTotalVolumes: 7,
      maxTotalVolumeGigabytes: 1000,
      maxTotalSnapshots: 10,
      maxTotalBackups: 10,
      maxTotalBackupGigabytes: 1000,
      totalVolumesUsed: 2,
      totalGigabytesUsed: 4,
      totalSnapshotsUsed: 0,
      totalBackupsUsed: 0,
      totalBackupGigabytesUsed: 0,
    },
  });
  // An administrator asks for another project's from 3.39 on; before, the parameter is ignored.
  const other = 'another-project';
  await setQuota(s, { volumes: 1 }, other);
  assert.equal((await s.request('GET', `limits?project_id=${other}`, { version: '3.39' })).body.limits.absolute.maxTotalVolumes, 1);
  assert.equal((await s.request('GET', `limits?project_id=${other}`, { version: '3.38' })).body.limits.absolute.maxTotalVolumes, 7);
});

forEachDatabase('quota enforcement', (db) => {
  test("every resource is enforced with Cinder's 413, and usage follows creates, copies, extends and deletes", async (t) => {
    const s = await serviceOn(t, db().name);
    await setQuota(s, { volumes: 3, gigabytes: 9, snapshots: 1, per_volume_gigabytes: 6 });

    assertFault(
      await s.request('POST', 'volumes', { body: { volume: { size: 7 } } }),
      413,
      'overLimit',
      'Requested volume size 7G is larger than maximum allowed limit 6G.',
    );
    const a = await createVolume(s, { size: 4 });
    assert.deepEqual(await inUse(s, 'volumes', 'gigabytes', 'volumes___DEFAULT__', 'gigabytes___DEFAULT__'), [1, 4, 1, 4]);
    const refused = await s.request('POST', 'volumes', { body: { volume: { size: 6 } } });
    assertFault(refused, 413, 'overLimit', 'Requested volume or snapshot exceeds allowed gigabytes quota. Requested 6G, quota is 9G and 4G has been consumed.');
    assert.equal(refused.body.overLimit.retryAfter, '0');
    assert.equal(refused.headers.get('retry-after'), '0');

    // A snapshot counts one snapshot and its volume's size in gigabytes.
    const snap = await snapshot(s, a.id);
    assert.deepEqual(await inUse(s, 'snapshots', 'gigabytes', 'snapshots___DEFAULT__'), [1, 8, 1]);
    await setQuota(s, { gigabytes: 20 });
    assertFault(await s.request('POST', 'snapshots', { body: { snapshot: { volume_id: a.id } } }), 413, 'overLimit', 'Maximum number of snapshots allowed (1) exceeded');
    // A volume from the snapshot and a clone count as any volume does.
    const fromSnapshot = await createVolume(s, { size: 4, snapshot_id: snap });
    const clone = await createVolume(s, { size: 5, source_volid: a.id });
    assert.deepEqual(await inUse(s, 'volumes', 'gigabytes'), [3, 17]);
    assertFault(await s.request('POST', 'volumes', { body: { volume: { size: 1 } } }), 413, 'overLimit', "Maximum number of volumes allowed (3) exceeded for quota 'volumes'.");

    // An extend past the quota is refused and leaves the volume as it was; one within counts.
    await setQuota(s, { per_volume_gigabytes: 10 });
    const extendRefused = await action(s, clone.id, { 'os-extend': { new_size: 9 } });
    assertFault(extendRefused, 413, 'overLimit', 'Requested volume or snapshot exceeds allowed gigabytes quota. Requested 4G, quota is 20G and 17G has been consumed.');
    const after = (await s.request('GET', `volumes/${clone.id}`)).body.volume;
    assert.deepEqual([after.status, after.size], ['available', 5]);
    assertFault(await action(s, clone.id, { 'os-extend': { new_size: 11 } }), 413, 'overLimit', 'Requested volume size 11G is larger than maximum allowed limit 10G.');
    assertEmpty(await action(s, clone.id, { 'os-extend': { new_size: 8 } }), 202);
    await s.waitForVolume(clone.id, ['available']);
    assert.equal((await s.request('GET', `volumes/${clone.id}`)).body.volume.size, 8);
    assert.deepEqual(await inUse(s, 'gigabytes'), [20]);

    // Deletes give everything back.
    assertEmpty(await s.request('DELETE', `snapshots/${snap}`), 202);
    await waitGone(s, `snapshots/${snap}`);
    assert.deepEqual(await inUse(s, 'snapshots', 'gigabytes'), [0, 16]);
    for (const v of [a, fromSnapshot, clone]) {
      assertEmpty(await s.request('DELETE', `volumes/${v.id}`), 202);
      await waitGone(s, `volumes/${v.id}`);
    }
    assert.deepEqual(await inUse(s, 'volumes', 'gigabytes', 'snapshots', 'volumes___DEFAULT__', 'gigabytes___DEFAULT__', 'snapshots___DEFAULT__'), [0, 0, 0, 0, 0, 0]);
  });

  test('per-type quotas count each type apart, with the type in the message', async (t) => {
    const s = await serviceOn(t, db().name);
    const type = await s.request('POST', 'types', { body: { volume_type: { name: 'gold' } } });
    assert.equal(type.status, 200, type.text);
    assert.equal((await usage(s)).volumes_gold!.limit, -1);
    await setQuota(s, { volumes_gold: 1, gigabytes_gold: 3 });
    await createVolume(s, { size: 2, volume_type: 'gold' });
    assertFault(
      await s.request('POST', 'volumes', { body: { volume: { size: 1, volume_type: 'gold' } } }),
      413,
      'overLimit',
      "Maximum number of volumes allowed (1) exceeded for quota 'volumes_gold'.",
    );
    await createVolume(s, { size: 2 });
    assert.deepEqual(await inUse(s, 'volumes', 'gigabytes', 'volumes_gold', 'gigabytes_gold', 'volumes___DEFAULT__'), [2, 4, 1, 2, 1]);
    await setQuota(s, { volumes_gold: 2 });
    assertFault(
      await s.request('POST', 'volumes', { body: { volume: { size: 2, volume_type: 'gold' } } }),
      413,
      'overLimit',
      'Requested volume or snapshot exceeds allowed gigabytes_gold quota. Requested 2G, quota is 3G and 2G has been consumed.',
    );
  });

  test('with k volumes left, N parallel creates through two API services: exactly k accepted, N-k refused', async (t) => {
    const database = await createTestDatabase(db().name);
    t.after(() => database.cleanup());
    const first = await startService(t, { database: database.url, host: 'api-a' });
    const second = await startService(t, { database: database.url, host: 'api-b' });
    const project = first.projectId;
    const left = 5;
    const parallel = 40;
    await setQuota(first, { volumes: left + 2, gigabytes: -1 });
    await createVolume(first, { size: 1 });
    await createVolume(first, { size: 1 });
    const results = await Promise.all(
      Array.from({ length: parallel }, (_, i) =>
        (i % 2 === 0 ? first : second).request('POST', `/v3/${project}/volumes`, {
          body: { volume: { size: 1 } },
          headers: { 'X-Auth-Token': first.token },
        }),
      ),
    );
    const accepted = results.filter((r) => r.status === 202);
    const refused = results.filter((r) => r.status === 413);
    assert.equal(accepted.length, left, results.map((r) => `${r.status} ${r.text}`).join('\n'));
    assert.equal(refused.length, parallel - left);
    for (const r of refused) assert.equal(r.body.overLimit.message, `Maximum number of volumes allowed (${left + 2}) exceeded for quota 'volumes'.`);
    assert.deepEqual(await inUse(first, 'volumes', 'volumes___DEFAULT__'), [left + 2, left + 2]);

    // The same for gigabytes: 10 GiB left, 3 GiB each, so 3 of them fit.
    await setQuota(first, { volumes: -1, gigabytes: left + 2 + 10 });
    const sized = await Promise.all(
      Array.from({ length: 20 }, (_, i) =>
        (i % 2 === 0 ? first : second).request('POST', `/v3/${project}/volumes`, { body: { volume: { size: 3 } }, headers: { 'X-Auth-Token': first.token } }),
      ),
    );
    assert.equal(sized.filter((r) => r.status === 202).length, 3);
    assert.equal(sized.filter((r) => r.status === 413).length, 17);
    assert.deepEqual(await inUse(first, 'gigabytes'), [left + 2 + 9]);
    for (const r of [...accepted, ...sized.filter((x) => x.status === 202)]) await first.waitForVolume(r.body.volume.id, ['available']);
  });
});
