import assert from 'node:assert/strict';
import { test } from 'node:test';
import { UNLIMITED_QUOTAS } from '../helpers/env.js';
import { action, assertEmpty, assertFault, createVolume, forEachDatabase, serviceOn } from './support.js';
import { waitForSnapshot } from './snapshot-support.js';

forEachDatabase('snapshots API', (db) => {
  test('create, show, list, detail, update, delete; fields by microversion', async (t) => {
    const s = await serviceOn(t, db().name);
    const volume = await createVolume(s);
    await s.waitForVolume(volume.id, ['available']);

    const created = await s.request('POST', 'snapshots', { body: { snapshot: { volume_id: volume.id, name: 'nightly', metadata: { k: 'v' } } } });
    assert.equal(created.status, 202, created.text);
    const id = created.body.snapshot.id;
    assert.deepEqual(
      { ...created.body.snapshot, id: 'x', created_at: 'x' },
      {
        id: 'x',
        created_at: 'x',
        updated_at: null,
        name: 'nightly',
        description: null,
        volume_id: volume.id,
        status: 'creating',
        size: 1,
        metadata: { k: 'v' },
      },
      'the create response has no extended attributes: Cinder adds them to show and detail only',
    );
    const ready = await waitForSnapshot(s, id, ['available', 'error']);
    assert.equal(ready.status, 'available');
    assert.equal(ready['os-extended-snapshot-attributes:progress'], '100%');

    const summary = (await s.request('GET', 'snapshots')).body.snapshots;
    assert.deepEqual(summary.map((x: any) => [x.id, x.status]), [[id, 'available']]);
    assert.ok(!('os-extended-snapshot-attributes:progress' in summary[0]), 'the summary list has no extended attributes');
    const detail = (await s.request('GET', 'snapshots/detail', { version: '3.65' })).body.snapshots[0];
    assert.equal(detail['os-extended-snapshot-attributes:project_id'], s.projectId);
    assert.equal(detail.group_snapshot_id, null);
    assert.equal(detail.user_id, 'admin');
    assert.equal(detail.consumes_quota, true);
    assert.deepEqual((await s.request('GET', `snapshots?volume_id=${volume.id}&status=available`)).body.snapshots.length, 1);
    assert.deepEqual((await s.request('GET', 'snapshots?status=error')).body.snapshots, []);

    const updated = await s.request('PUT', `snapshots/${id}`, { body: { snapshot: { description: 'before upgrade' } } });
    assert.equal(updated.status, 200, updated.text);
    assert.equal(updated.body.snapshot.description, 'before upgrade');
    assert.equal(updated.body.snapshot.name, 'nightly');
    assertFault(await s.request('PUT', `snapshots/${id}`, { body: { snapshot: {} } }), 400, 'badRequest');

    assertEmpty(await s.request('DELETE', `snapshots/${id}`), 202);
    await waitForSnapshot(s, id, ['deleted']);
    assertFault(await s.request('GET', `snapshots/${id}`), 404, 'itemNotFound', `Snapshot ${id} could not be found.`);
  });

  test("Cinder's refusals: volume state, force, a volume with snapshots, a snapshot not ready", async (t) => {
    const s = await serviceOn(t, db().name);
    const volume = await createVolume(s);
    await s.waitForVolume(volume.id, ['available']);
    assert.equal((await action(s, volume.id, { 'os-reserve': {} })).status, 202);
    assertFault(
      await s.request('POST', 'snapshots', { body: { snapshot: { volume_id: volume.id } } }),
      400,
      'badRequest',
      `Invalid volume: Volume ${volume.id} status must be available, but current status is: attaching.`,
    );
    assertFault(
      await s.request('POST', 'snapshots', { body: { snapshot: { volume_id: volume.id, force: true } } }),
      400,
      'badRequest',
      `Invalid volume: Volume ${volume.id} status must be available, in-use, but current status is: attaching.`,
    );
    assertFault(
      await s.request('POST', 'snapshots', { body: { snapshot: { volume_id: volume.id } }, version: '3.66' }),
      400,
      'badRequest',
      // From 3.66 an in-use volume needs no force.
      `Invalid volume: Volume ${volume.id} status must be available, in-use, but current status is: attaching.`,
    );
    assertFault(
      await s.request('POST', 'snapshots', { body: { snapshot: { volume_id: volume.id, force: false } }, version: '3.66' }),
      400,
      'badRequest',
      "Since microversion 3.66 the 'force' flag is invalid for this request.  For backward compatability, however, when the 'force' flag is passed with a value evaluating to True, it is silently ignored.",
    );
    assert.equal((await action(s, volume.id, { 'os-unreserve': {} })).status, 202);
    const missing = '5f0c7a1e-95c4-4a3c-a1b0-3e9c7c0f2d11';
    assertFault(await s.request('POST', 'snapshots', { body: { snapshot: { volume_id: missing } } }), 404, 'itemNotFound', `Volume ${missing} could not be found.`);
    // Cinder's schema lets a null volume_id through, to a volume nobody has.
    assertFault(await s.request('POST', 'snapshots', { body: { snapshot: { volume_id: null, display_name: 'x' } } }), 404, 'itemNotFound', 'Volume None could not be found.');
    assertFault(
      await s.request('POST', 'snapshots', { body: { snapshot: { volume_id: 7 } } }),
      400,
      'badRequest',
      'Invalid input for field/attribute volume_id. Value: 7. 7 is not valid under any of the given schemas',
    );
    assertFault(await s.request('POST', 'snapshots', { body: { snapshot: { name: 'x' } } }), 400, 'badRequest', "Invalid input for field/attribute snapshot. Value: {'name': 'x'}. 'volume_id' is a required property");

    const snapshot = (await s.request('POST', 'snapshots', { body: { snapshot: { volume_id: volume.id } } })).body.snapshot;
    await waitForSnapshot(s, snapshot.id, ['available']);
    assertFault(
      await s.request('DELETE', `volumes/${volume.id}`),
      400,
      'badRequest',
      'Invalid volume: Volume status must be available or error or error_restoring or error_extending or error_managing and must not be migrating, attached, belong to a group, have snapshots, awaiting a transfer, or be disassociated from snapshots after volume transfer.',
    );
    assertFault(
      await s.request('POST', 'volumes', { body: { volume: { snapshot_id: snapshot.id, size: 0 } } }),
      400,
      'badRequest',
    );
    const bigger = await createVolume(s, { size: 2 });
    await s.waitForVolume(bigger.id, ['available']);
    const big = (await s.request('POST', 'snapshots', { body: { snapshot: { volume_id: bigger.id } } })).body.snapshot;
    await waitForSnapshot(s, big.id, ['available']);
    assertFault(
      await s.request('POST', 'volumes', { body: { volume: { snapshot_id: big.id, size: 1 } } }),
      400,
      'badRequest',
      "Invalid input received: Volume size '1'GB cannot be smaller than the snapshot size 2GB. They must be >= original snapshot size.",
    );
    assertFault(await s.request('POST', 'volumes', { body: { volume: { snapshot_id: missing, size: 1 } } }), 404, 'itemNotFound', `Snapshot ${missing} could not be found.`);

    // A volume from the snapshot takes its size; the snapshot's volume then goes only with cascade.
    const restored = await s.request('POST', 'volumes', { body: { volume: { snapshot_id: snapshot.id } } });
    assert.equal(restored.status, 202, restored.text);
    assert.equal(restored.body.volume.snapshot_id, snapshot.id);
    assert.equal(restored.body.volume.size, 1);
    assert.equal((await s.waitForVolume(restored.body.volume.id, ['available', 'error'])).status, 'available');
    assertEmpty(await s.request('DELETE', `volumes/${volume.id}?cascade=true`), 202);
    await waitForSnapshot(s, snapshot.id, ['deleted']);
    for (let i = 0; i < 200 && (await s.request('GET', `volumes/${volume.id}`)).status !== 404; i++) await new Promise((r) => setTimeout(r, 25));
    assert.equal((await s.request('GET', `volumes/${volume.id}`)).status, 404);
  });

  test('a snapshot and a delete of the same volume at once: exactly one of them wins', async (t) => {
    const s = await serviceOn(t, db().name, UNLIMITED_QUOTAS);
    const volumes = await Promise.all(Array.from({ length: 12 }, () => createVolume(s)));
    for (const v of volumes) await s.waitForVolume(v.id, ['available']);
    const outcomes = await Promise.all(
      volumes.map(async (v) => {
        const [snap, del] = await Promise.all([
          s.request('POST', 'snapshots', { body: { snapshot: { volume_id: v.id } } }),
          s.request('DELETE', `volumes/${v.id}`),
        ]);
        return { snap: snap.status, del: del.status, text: snap.text + del.text };
      }),
    );
    for (const o of outcomes) {
      // The loser is refused: 400 for the state it found, or 404 for a snapshot of a volume already gone.
      assert.equal([o.snap, o.del].filter((status) => status === 202).length, 1, `one wins: ${o.text}`);
      assert.ok([400, 404].includes(o.snap === 202 ? o.del : o.snap), `the other is refused: ${o.text}`);
    }
  });
});
