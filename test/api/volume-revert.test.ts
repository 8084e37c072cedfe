import assert from 'node:assert/strict';
import { open } from 'node:fs/promises';
import { join } from 'node:path';
import { test } from 'node:test';
import type { TestService } from '../helpers/service.js';
import { action, assertEmpty, assertFault, createVolume, forEachDatabase, serviceOn } from './support.js';
import { createSnapshot, snapshotAction, waitForSnapshot } from './snapshot-support.js';

async function writeAt(s: TestService, volumeId: string, offset: number, text: string): Promise<void> {
  const file = await open(join(s.config.dataDir, 'volumes', `volume-${volumeId}`), 'r+');
  try {
    await file.write(Buffer.from(text), 0, text.length, offset);
  } finally {
    await file.close();
  }
}

async function readAt(s: TestService, volumeId: string, offset: number, length: number): Promise<string> {
  const file = await open(join(s.config.dataDir, 'volumes', `volume-${volumeId}`), 'r');
  try {
    const buffer = Buffer.alloc(length);
    await file.read(buffer, 0, length, offset);
    return buffer.toString();
  } finally {
    await file.close();
  }
}

const MIB = 1024 * 1024;

forEachDatabase('volume revert to snapshot', (db) => {
  test('the volume gets its latest snapshot’s data back; volume and snapshot end available', async (t) => {
    const s = await serviceOn(t, db().name);
    const volume = await createVolume(s);
    await writeAt(s, volume.id, 0, 'first');
    await writeAt(s, volume.id, 300 * MIB, 'far');
    await createSnapshot(s, volume.id);
    await writeAt(s, volume.id, 0, 'again');
    const latest = await createSnapshot(s, volume.id);
    await writeAt(s, volume.id, 0, 'later');
    await writeAt(s, volume.id, 300 * MIB, 'FAR');
    await writeAt(s, volume.id, 600 * MIB, 'new');

    const reverted = await action(s, volume.id, { revert: { snapshot_id: latest.id } }, '3.40');
    assertEmpty(reverted, 202);
    assert.equal(reverted.headers.get('content-type'), 'application/json');
    await s.waitForVolume(volume.id, ['available', 'error']);
    assert.equal((await s.waitForVolume(volume.id, ['available'])).status, 'available');
    assert.equal((await waitForSnapshot(s, latest.id, ['available'])).status, 'available');
    assert.equal(await readAt(s, volume.id, 0, 5), 'again');
    assert.equal(await readAt(s, volume.id, 300 * MIB, 3), 'far');
    assert.equal(await readAt(s, volume.id, 600 * MIB, 3), '\0\0\0', 'what was written after the snapshot is gone');
  });

  test("Cinder's refusals: not before 3.40, only the latest snapshot, sizes and states", async (t) => {
    const s = await serviceOn(t, db().name);
    const volume = await createVolume(s);
    assertFault(await action(s, volume.id, { revert: { snapshot_id: null } }, '3.39'), 404, 'itemNotFound', 'The resource could not be found.');
    assertFault(await action(s, volume.id, { revert: { snapshot_id: null } }, '3.40'), 400, 'badRequest', `Volume ${volume.id} doesn't have any snapshots.`);
    const older = await createSnapshot(s, volume.id);
    const latest = await createSnapshot(s, volume.id);
    const conflict = async (what: string) =>
      assertFault(
        await action(s, volume.id, { revert: { snapshot_id: latest.id } }, '3.40'),
        409,
        'conflictingRequest',
        `Invalid ${what.toLowerCase()}: Can't revert volume ${volume.id} to its latest snapshot ${latest.id}. ${what}'s status must be 'available'.`,
      );
    assertFault(await action(s, volume.id, { revert: 'x' }, '3.40'), 400, 'badRequest', "Missing required element 'revert' in request body.");
    assertFault(
      await action(s, volume.id, { revert: {} }, '3.40'),
      400,
      'badRequest',
      `Specified snapshot None is None or not the latest one of volume ${volume.id}.`,
    );
    assertFault(
      await action(s, volume.id, { revert: { snapshot_id: older.id } }, '3.40'),
      400,
      'badRequest',
      `Specified snapshot ${older.id} is None or not the latest one of volume ${volume.id}.`,
    );

    assertEmpty(await snapshotAction(s, latest.id, { 'os-reset_status': { status: 'error' } }), 202);
    await conflict('Snapshot');
    assert.equal((await s.request('GET', `volumes/${volume.id}`)).body.volume.status, 'available', 'the refused revert left the volume as it was');
    assertEmpty(await snapshotAction(s, latest.id, { 'os-reset_status': { status: 'available' } }), 202);
    assertEmpty(await action(s, volume.id, { 'os-reset_status': { status: 'error' } }), 202);
    await conflict('Volume');
    assertEmpty(await action(s, volume.id, { 'os-reset_status': { status: 'available' } }), 202);

    assertEmpty(await action(s, volume.id, { 'os-extend': { new_size: 2 } }), 202);
    await s.waitForVolume(volume.id, ['available']);
    assertFault(
      await action(s, volume.id, { revert: { snapshot_id: latest.id } }, '3.40'),
      400,
      'badRequest',
      `Can't revert volume ${volume.id} to its latest snapshot ${latest.id}. The volume size must be equal to the snapshot size.`,
    );
  });
});
