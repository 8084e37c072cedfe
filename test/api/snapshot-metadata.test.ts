import assert from 'node:assert/strict';
import { test } from 'node:test';
import { assertTempestSchema, requireTempestSchemas } from '../helpers/tempest-schema.js';
import { assertEmpty, assertFault, createVolume, forEachDatabase, serviceOn } from './support.js';
import { createSnapshot } from './snapshot-support.js';

forEachDatabase('snapshot metadata API', (db) => {
  test('show, merge, replace, one key: show, set, delete', async (t) => {
    if (!requireTempestSchemas(t)) return;
    const s = await serviceOn(t, db().name);
    const volume = await createVolume(s);
    const snapshot = await createSnapshot(s, volume.id, { metadata: { origin: 'nightly' } });
    const path = `snapshots/${snapshot.id}/metadata`;

    const shown = await s.request('GET', path);
    await assertTempestSchema(shown, 'snapshots.show_snapshot_metadata');
    assert.deepEqual(shown.body, { metadata: { origin: 'nightly' } });

    const merged = await s.request('POST', path, { body: { metadata: { key1: 'value1', key2: 'value2' } } });
    await assertTempestSchema(merged, 'snapshots.create_snapshot_metadata');
    assert.deepEqual(merged.body, { metadata: { origin: 'nightly', key1: 'value1', key2: 'value2' } });

    const replaced = await s.request('PUT', path, { body: { metadata: { key3: 'value3', key4: 'value4' } } });
    await assertTempestSchema(replaced, 'snapshots.update_snapshot_metadata');
    assert.deepEqual(replaced.body, { metadata: { key3: 'value3', key4: 'value4' } });

    const item = await s.request('PUT', `${path}/key3`, { body: { meta: { key3: 'changed' } } });
    await assertTempestSchema(item, 'snapshots.update_snapshot_metadata_item');
    assert.deepEqual(item.body, { meta: { key3: 'changed' } });
    const one = await s.request('GET', `${path}/key3`);
    await assertTempestSchema(one, 'snapshots.show_snapshot_metadata_item');
    assert.deepEqual(one.body, { meta: { key3: 'changed' } });

    const deleted = await s.request('DELETE', `${path}/key3`);
    assertEmpty(deleted, 200);
    assert.equal(deleted.headers.get('content-type'), 'text/html; charset=UTF-8');
    await assertTempestSchema(deleted, 'snapshots.delete_snapshot_metadata_item');
    assert.deepEqual((await s.request('GET', `snapshots/${snapshot.id}`)).body.snapshot.metadata, { key4: 'value4' });

    const cleared = await s.request('PUT', path, { body: { metadata: {} } });
    assert.deepEqual(cleared.body, { metadata: {} });
  });

  test("Cinder's refusals, in its words", async (t) => {
    const s = await serviceOn(t, db().name);
    const volume = await createVolume(s);
    const snapshot = await createSnapshot(s, volume.id, { metadata: { k: 'v' } });
    const path = `snapshots/${snapshot.id}/metadata`;
    const missing = '5f0c7a1e-95c4-4a3c-a1b0-3e9c7c0f2d11';

    assertFault(await s.request('GET', `${path}/nope`), 404, 'itemNotFound', `Snapshot ${snapshot.id} has no metadata with key nope.`);
    assertFault(await s.request('DELETE', `${path}/nope`), 404, 'itemNotFound', `Snapshot ${snapshot.id} has no metadata with key nope.`);
    assertFault(await s.request('GET', `snapshots/${missing}/metadata`), 404, 'itemNotFound', `Snapshot ${missing} could not be found.`);
    assertFault(await s.request('POST', path, { body: { meta: { a: 'b' } } }), 400, 'badRequest', "Missing required element 'metadata' in request body.");
    assertFault(await s.request('PUT', path, { body: { metadata: ['a'] } }), 400, 'badRequest', "Missing required element 'metadata' in request body.");
    assertFault(await s.request('PUT', `${path}/k`, { body: { meta: { other: 'x' } } }), 400, 'badRequest', 'Request body and URI mismatch');
    assertFault(await s.request('PUT', `${path}/k`, { body: { meta: { k: 'x', other: 'y' } } }), 400, 'badRequest', 'Request body contains too many items');
    assertFault(
      await s.request('POST', path, { body: { metadata: { '': 'x' } } }),
      400,
      'badRequest',
      'Invalid metadata: Invalid input received: Metadata key:  has 0 characters, less than 1.',
    );
    assertFault(
      await s.request('POST', path, { body: { metadata: { n: 5 } } }),
      400,
      'badRequest',
      'Invalid metadata: Invalid input received: Value for metadata key: n is not a string or unicode',
    );
    const long = 'x'.repeat(256);
    assertFault(
      await s.request('POST', path, { body: { metadata: { k: long } } }),
      413,
      'overLimit',
      'Invalid metadata size: Metadata property key k value greater than 255 characters.',
    );
    assert.deepEqual((await s.request('GET', path)).body, { metadata: { k: 'v' } }, 'a refused change leaves the set as it was');
  });

  test('many writers adding keys at once all keep theirs', async (t) => {
    const s = await serviceOn(t, db().name);
    const volume = await createVolume(s);
    const snapshot = await createSnapshot(s, volume.id);
    const path = `snapshots/${snapshot.id}/metadata`;
    const answers = await Promise.all(Array.from({ length: 4 }, (_, i) => s.request('POST', path, { body: { metadata: { [`k${i}`]: `v${i}` } } })));
    assert.deepEqual(answers.map((a) => a.status), [200, 200, 200, 200], answers.map((a) => a.text).join('\n'));
    assert.deepEqual((await s.request('GET', path)).body.metadata, { k0: 'v0', k1: 'v1', k2: 'v2', k3: 'v3' });
  });
});
