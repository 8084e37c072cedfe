import assert from 'node:assert/strict';
import { test } from 'node:test';
import { assertTempestSchema, requireTempestSchemas } from '../helpers/tempest-schema.js';
import { assertEmpty, assertFault, createVolume, forEachDatabase, serviceOn } from './support.js';
import { createSnapshot, snapshotAction, waitForSnapshot } from './snapshot-support.js';

const VALID = "('error', 'available', 'creating', 'deleting', 'deleted', 'updating', 'error_deleting', 'unmanaging', 'backing-up', 'restoring')";

forEachDatabase('snapshot actions', (db) => {
  test('os-reset_status sets any status, in lower case; an unknown one is refused with the list', async (t) => {
    if (!requireTempestSchemas(t)) return;
    const s = await serviceOn(t, db().name);
    const volume = await createVolume(s);
    const snapshot = await createSnapshot(s, volume.id);

    const reset = await snapshotAction(s, snapshot.id, { 'os-reset_status': { status: 'CREATING' } });
    assertEmpty(reset, 202);
    assert.equal(reset.headers.get('content-type'), 'application/json');
    await assertTempestSchema(reset, 'snapshots.reset_snapshot_status');
    assert.equal((await s.request('GET', `snapshots/${snapshot.id}`)).body.snapshot.status, 'creating');

    assertFault(
      await snapshotAction(s, snapshot.id, { 'os-reset_status': { status: 'frozen' } }),
      400,
      'badRequest',
      `Snapshot status: frozen is invalid, valid statuses are: ${VALID}.`,
    );
    assertFault(await snapshotAction(s, snapshot.id, { 'os-reset_status': {} }), 400, 'badRequest', "Invalid input for field/attribute os-reset_status. Value: {}. 'status' is a required property");
    const missing = '5f0c7a1e-95c4-4a3c-a1b0-3e9c7c0f2d11';
    assertFault(await snapshotAction(s, missing, { 'os-reset_status': { status: 'error' } }), 404, 'itemNotFound', `Snapshot ${missing} could not be found.`);
    assertFault(
      await snapshotAction(s, snapshot.id, { 'os-unmanage': {} }),
      400,
      'badRequest',
      'There is no such action: os-unmanage. Verify the request body and Content-Type header and try again.',
    );
  });

  test("os-update_snapshot_status follows Cinder's moves and sets the progress", async (t) => {
    if (!requireTempestSchemas(t)) return;
    const s = await serviceOn(t, db().name);
    const volume = await createVolume(s);
    const snapshot = await createSnapshot(s, volume.id);

    assertFault(
      await snapshotAction(s, snapshot.id, { 'os-update_snapshot_status': { status: 'error' } }),
      400,
      'badRequest',
      'Snapshot status available not allowed for update_snapshot_status',
    );
    assertEmpty(await snapshotAction(s, snapshot.id, { 'os-reset_status': { status: 'creating' } }), 202);
    assertFault(
      await snapshotAction(s, snapshot.id, { 'os-update_snapshot_status': { status: 'error_deleting' } }),
      400,
      'badRequest',
      'Provided snapshot status error_deleting not allowed for snapshot with status creating.',
    );
    for (const [progress, message] of [
      // Cinder reads all but the last character as the number, then wants the '%'.
      ['80', 'Invalid input received: progress must be an integer percentage between 0 and 100'],
      ['eighty%', 'Invalid input received: progress must be an integer percentage'],
      ['101%', 'Invalid input received: progress must be an integer percentage between 0 and 100'],
    ] as const) {
      assertFault(await snapshotAction(s, snapshot.id, { 'os-update_snapshot_status': { status: 'error', progress } }), 400, 'badRequest', message);
    }
    assertFault(
      await snapshotAction(s, snapshot.id, { 'os-update_snapshot_status': { status: 'error', note: 'x' } }),
      400,
      'badRequest',
      "Invalid input for field/attribute os-update_snapshot_status. Value: {'status': 'error', 'note': 'x'}. Additional properties are not allowed ('note' was unexpected)",
    );

    const updated = await snapshotAction(s, snapshot.id, { 'os-update_snapshot_status': { status: 'error', progress: '80%' } });
    assertEmpty(updated, 202);
    assert.equal(updated.headers.get('content-type'), 'text/html; charset=UTF-8');
    await assertTempestSchema(updated, 'snapshots.update_snapshot_status');
    const shown = (await s.request('GET', `snapshots/${snapshot.id}`)).body.snapshot;
    assert.equal(shown.status, 'error');
    assert.equal(shown['os-extended-snapshot-attributes:progress'], '80%');
  });

  for (const status of ['creating', 'deleting', 'error', 'error_deleting', 'available']) {
    test(`os-force_delete removes a snapshot in ${status}, and gives its quota back`, async (t) => {
      if (!requireTempestSchemas(t)) return;
      const s = await serviceOn(t, db().name);
      const volume = await createVolume(s);
      const snapshot = await createSnapshot(s, volume.id);
      const used = async () => (await s.request('GET', 'limits')).body.limits.absolute.totalSnapshotsUsed;
      assert.equal(await used(), 1);
      assertEmpty(await snapshotAction(s, snapshot.id, { 'os-reset_status': { status } }), 202);
      if (!['available', 'error'].includes(status)) {
        assertFault(
          await s.request('DELETE', `snapshots/${snapshot.id}`),
          400,
          'badRequest',
          'Invalid snapshot: Snapshot status must be available or error and must not be part of a group.',
        );
      }
      const forced = await snapshotAction(s, snapshot.id, { 'os-force_delete': {} });
      assertEmpty(forced, 202);
      await assertTempestSchema(forced, 'snapshots.force_delete_snapshot');
      await waitForSnapshot(s, snapshot.id, ['deleted']);
      assert.equal(await used(), 0);
    });
  }
});
