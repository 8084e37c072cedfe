import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { open, readdir, readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { test } from 'node:test';
import { assertTempestSchema, requireTempestSchemas } from '../helpers/tempest-schema.js';
import type { TestService } from '../helpers/service.js';
import { createSnapshot } from './snapshot-support.js';
import { action, assertEmpty, assertFault, createVolume, forEachDatabase, serviceOn, SERVER_ID } from './support.js';

const MiB = 1024 * 1024;
const CHUNK = 4 * MiB;

async function waitForBackup(s: TestService, id: string, statuses: string[]): Promise<any> {
  const deadline = Date.now() + 120_000;
  for (;;) {
    const res = await s.request('GET', `backups/${id}`);
    if (res.status === 404 && statuses.includes('deleted')) return null;
    if (res.status === 200 && statuses.includes(res.body.backup.status)) return res.body.backup;
    if (Date.now() > deadline) throw new Error(`backup ${id}: ${res.status} ${res.text}`);
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
}

async function createBackup(s: TestService, backup: Record<string, unknown>, version?: string): Promise<any> {
  const res = await s.request('POST', 'backups', { body: { backup }, ...(version ? { version } : {}) });
  assert.equal(res.status, 202, res.text);
  return waitForBackup(s, res.body.backup.id, ['available', 'error']);
}

function volumeFile(s: TestService, id: string): string {
  return join(s.config.dataDir, 'volumes', `volume-${id}`);
}

/** Writes `data` into the volume's file at `offset`, as a host writing through its disk would. */
async function writeVolume(s: TestService, id: string, offset: number, data: Buffer): Promise<void> {
  const handle = await open(volumeFile(s, id), 'r+');
  try {
    await handle.write(data, 0, data.length, offset);
  } finally {
    await handle.close();
  }
}

async function digestOf(path: string): Promise<string> {
  return createHash('sha256').update(await readFile(path)).digest('hex');
}

/** The chunk files a backup stored (zero chunks and unchanged ones are not). */
async function storedChunks(s: TestService, backupId: string, container = 'backups'): Promise<string[]> {
  return (await readdir(join(s.config.dataDir, 'backups', container, `backup_${backupId}`))).filter((f) => f.startsWith('chunk-')).sort();
}

forEachDatabase('backups API', (db) => {
  test('create, show, list, detail, update, export, import, reset, delete: bodies as tempest holds them', async (t) => {
    if (!requireTempestSchemas(t)) return;
    const s = await serviceOn(t, db().name);
    const volume = await createVolume(s, { metadata: { 'vol-meta1': 'value1' } });

    const created = await s.request('POST', 'backups', { body: { backup: { volume_id: volume.id, name: 'nightly', description: 'd', container: 'container' } } });
    await assertTempestSchema(created, 'backups.create_backup');
    assert.deepEqual(Object.keys(created.body.backup).sort(), ['id', 'links', 'name']);
    assert.equal((await s.waitForVolume(volume.id, ['backing-up', 'available'])).id, volume.id);
    const id = created.body.backup.id;
    const ready = await waitForBackup(s, id, ['available', 'error']);
    assert.equal(ready.status, 'available', ready.fail_reason);
    await s.waitForVolume(volume.id, ['available']);

    const shown = await s.request('GET', `backups/${id}`);
    await assertTempestSchema(shown, 'backups.show_backup');
    assert.equal(shown.body.backup.container, 'container');
    assert.equal(shown.body.backup.description, 'd');
    assert.equal(shown.body.backup.size, 1);
    assert.equal(shown.body.backup.is_incremental, false);
    assert.equal(shown.body.backup.has_dependent_backups, false);
    assert.equal(shown.body.backup.object_count, 1, 'an empty volume stores only its manifest');
    assert.ok(!('metadata' in shown.body.backup), 'metadata arrives at 3.43');
    const latest = await s.request('GET', `backups/${id}`, { version: '3.64' });
    await assertTempestSchema(latest, 'v3_64.backups.show_backup');
    assert.deepEqual(latest.body.backup.metadata, {});
    assert.equal(latest.body.backup['os-backup-project-attr:project_id'], s.projectId);
    assert.equal(latest.body.backup.user_id, 'admin');
    assert.ok(!('encryption_key_id' in latest.body.backup), 'only a backup of an encrypted volume has one');

    const summary = await s.request('GET', 'backups');
    await assertTempestSchema(summary, 'backups.list_backups_no_detail');
    assert.deepEqual(summary.body.backups.map((b: any) => b.id), [id]);
    const detail = await s.request('GET', 'backups/detail');
    await assertTempestSchema(detail, 'backups.list_backups_with_detail');
    const detail364 = await s.request('GET', 'backups/detail', { version: '3.64' });
    await assertTempestSchema(detail364, 'v3_64.backups.list_backups_with_detail');
    const noSummary364 = await s.request('GET', 'backups', { version: '3.64' });
    await assertTempestSchema(noSummary364, 'v3_64.backups.list_backups_no_detail');

    const updated = await s.request('PUT', `backups/${id}`, { body: { backup: { name: 'renamed', metadata: { k: 'v' } } }, version: '3.43' });
    await assertTempestSchema(updated, 'backups.update_backup');
    assert.equal(updated.body.backup.name, 'renamed');
    const updated364 = await s.request('PUT', `backups/${id}`, { body: { backup: { description: 'x' } }, version: '3.64' });
    await assertTempestSchema(updated364, 'v3_64.backups.update_backup');
    assert.deepEqual((await s.request('GET', `backups/${id}`, { version: '3.43' })).body.backup.metadata, { k: 'v' });
    assertFault(await s.request('PUT', `backups/${id}`, { body: { backup: { name: 'x' } }, version: '3.8' }), 404, 'itemNotFound');

    const exported = await s.request('GET', `backups/${id}/export_record`);
    await assertTempestSchema(exported, 'backups.export_backup');
    assert.ok(exported.body['backup-record'].backup_service.startsWith('cinder.backup.drivers'));
    const record = JSON.parse(Buffer.from(exported.body['backup-record'].backup_url, 'base64').toString());
    assert.equal(record.id, id);
    const newId = '1bd1b2f4-8d8d-4d0e-9a53-3a6e0c1d2e3f';
    const url = Buffer.from(JSON.stringify({ ...record, id: newId })).toString('base64');
    const imported = await s.request('POST', 'backups/import_record', { body: { 'backup-record': { backup_service: exported.body['backup-record'].backup_service, backup_url: url } } });
    await assertTempestSchema(imported, 'backups.import_backup');
    assert.equal(imported.body.backup.id, newId);
    assert.equal((await waitForBackup(s, newId, ['available', 'error'])).status, 'available');
    assertFault(
      await s.request('POST', 'backups/import_record', { body: { 'backup-record': { backup_service: 'x', backup_url: url } } }),
      400,
      'badRequest',
      'Invalid backup: Backup already exists in database.',
    );
    const noId = Buffer.from(JSON.stringify({ size: 1 })).toString('base64');
    assertFault(
      await s.request('POST', 'backups/import_record', { body: { 'backup-record': { backup_service: 'x', backup_url: noId } } }),
      400,
      'badRequest',
      'Invalid input received: Provided backup record is missing an id',
    );
    const elsewhere = Buffer.from(JSON.stringify({ ...record, id: '2bd1b2f4-8d8d-4d0e-9a53-3a6e0c1d2e3f' })).toString('base64');
    await s.request('POST', 'backups/import_record', { body: { 'backup-record': { backup_service: 'cinder.backup.drivers.swift', backup_url: elsewhere } } });
    const failed = await waitForBackup(s, '2bd1b2f4-8d8d-4d0e-9a53-3a6e0c1d2e3f', ['available', 'error']);
    assert.equal(failed.status, 'error', 'a store this service does not have cannot hold it');
    assert.match(failed.fail_reason, /cannot find backup service/);

    const reset = await s.request('POST', `backups/${id}/action`, { body: { 'os-reset_status': { status: 'error' } } });
    await assertTempestSchema(reset, 'backups.reset_backup_status');
    assert.equal((await s.request('GET', `backups/${id}`)).body.backup.status, 'error');
    const badReset = await s.request('POST', `backups/${id}/action`, { body: { 'os-reset_status': { status: 'creating' } } });
    assertFault(badReset, 400, 'badRequest', /Backup status: creating is invalid, valid statuses are: \['available', 'error'\]/);
    assertFault(
      await s.request('GET', `backups/${id}/export_record`),
      400,
      'badRequest',
      'Invalid backup: Backup status must be available and not error.',
    );

    // Both records name the same data: it goes with the last of them.
    const deleted = await s.request('DELETE', `backups/${id}`);
    await assertTempestSchema(deleted, 'backups.delete_backup');
    assert.equal(await waitForBackup(s, id, ['deleted']), null);
    assert.ok((await stat(join(s.config.dataDir, 'backups', 'container', `backup_${id}`, 'manifest.json'))).isFile());
    const restore = await s.request('POST', `backups/${newId}/restore`, { body: { restore: { name: 'again' } } });
    assert.equal(restore.status, 202, restore.text);
    assert.equal((await waitForBackup(s, newId, ['available'])).status, 'available');
    await s.waitForVolume(restore.body.restore.volume_id, ['available'], 120_000);
    assertEmpty(await s.request('DELETE', 'backups/2bd1b2f4-8d8d-4d0e-9a53-3a6e0c1d2e3f'), 202);
    await waitForBackup(s, '2bd1b2f4-8d8d-4d0e-9a53-3a6e0c1d2e3f', ['deleted']);
    assert.ok((await stat(join(s.config.dataDir, 'backups', 'container', `backup_${id}`, 'manifest.json'))).isFile(), 'one record still names the data');
    const v364 = await s.request('DELETE', `backups/${newId}`, { version: '3.64' });
    await assertTempestSchema(v364, 'v3_64.backups.delete_backup');
    await waitForBackup(s, newId, ['deleted']);
    await assert.rejects(stat(join(s.config.dataDir, 'backups', 'container', `backup_${id}`)), /ENOENT/);
    assertFault(await s.request('GET', `backups/${id}`), 404, 'itemNotFound', `Backup ${id} could not be found.`);
  });

  test('restored data equals the original byte for byte; zero chunks are not stored; incrementals store what changed', async (t) => {
    if (!requireTempestSchemas(t)) return;
    const s = await serviceOn(t, db().name);
    const volume = await createVolume(s, { metadata: { origin: 'yes' } });
    const first = randomBytes(CHUNK + 1234);
    await writeVolume(s, volume.id, 0, first);
    await writeVolume(s, volume.id, 700 * MiB, randomBytes(MiB));

    const full = await createBackup(s, { volume_id: volume.id });
    assert.equal(full.status, 'available', full.fail_reason);
    assert.deepEqual(await storedChunks(s, full.id), ['chunk-000000', 'chunk-000001', 'chunk-000175'], 'only chunks holding data are stored');
    assert.equal(full.object_count, 4);
    const original = await digestOf(volumeFile(s, volume.id));

    // One changed chunk: the incremental stores it alone.
    await writeVolume(s, volume.id, 300 * MiB, randomBytes(4096));
    const incremental = await createBackup(s, { volume_id: volume.id, incremental: true });
    assert.equal(incremental.status, 'available', incremental.fail_reason);
    assert.equal(incremental.is_incremental, true);
    assert.deepEqual(await storedChunks(s, incremental.id), ['chunk-000075']);
    assert.equal((await s.request('GET', `backups/${full.id}`)).body.backup.has_dependent_backups, true);
    const changed = await digestOf(volumeFile(s, volume.id));

    const restored = await s.request('POST', `backups/${full.id}/restore`, { body: { restore: { name: 'from-full' } } });
    await assertTempestSchema(restored, 'backups.restore_backup');
    assert.equal(restored.body.restore.volume_name, 'from-full');
    assert.equal(restored.body.restore.backup_id, full.id);
    const target = restored.body.restore.volume_id;
    assert.equal((await s.request('GET', `backups/${full.id}`)).body.backup.status, 'restoring');
    const restoredVolume = await s.waitForVolume(target, ['available', 'error_restoring'], 120_000);
    assert.equal(restoredVolume.status, 'available');
    assert.equal(await digestOf(volumeFile(s, target)), original);
    assert.equal(restoredVolume.metadata.origin, 'yes', "the source volume's metadata comes back");
    assert.ok((await stat(volumeFile(s, target))).blocks * 512 < 64 * MiB, 'the restored volume stays sparse');

    // The incremental over the restored volume: every chunk ends as the changed volume's, zeros included.
    await writeVolume(s, target, 500 * MiB, randomBytes(MiB));
    const over = await s.request('POST', `backups/${incremental.id}/restore`, { body: { restore: { volume_id: target } }, version: '3.64' });
    await assertTempestSchema(over, 'v3_64.backups.restore_backup');
    assert.equal(over.body.restore.volume_id, target);
    await s.waitForVolume(target, ['available'], 120_000);
    assert.equal(await digestOf(volumeFile(s, target)), changed);
    await waitForBackup(s, incremental.id, ['available']);

    assertFault(
      await s.request('DELETE', `backups/${full.id}`),
      400,
      'badRequest',
      'Invalid backup: Incremental backups exist for this backup.',
    );
    assertEmpty(await s.request('DELETE', `backups/${incremental.id}`), 202);
    await waitForBackup(s, incremental.id, ['deleted']);
    assert.equal((await s.request('GET', `backups/${full.id}`)).body.backup.has_dependent_backups, false);
  });

  test('a backup of a snapshot; of an in-use volume only with force; the refusals in Cinder\'s words', async (t) => {
    const s = await serviceOn(t, db().name);
    const volume = await createVolume(s);
    await writeVolume(s, volume.id, 0, Buffer.alloc(4096, 7));
    const snapshotId = (await createSnapshot(s, volume.id)).id;
    await writeVolume(s, volume.id, 0, Buffer.alloc(4096, 9));

    const ofSnapshot = await createBackup(s, { volume_id: volume.id, snapshot_id: snapshotId });
    assert.equal(ofSnapshot.snapshot_id, snapshotId);
    assert.equal(ofSnapshot.volume_id, volume.id);
    const chunk = await readFile(join(s.config.dataDir, 'backups', 'backups', `backup_${ofSnapshot.id}`, 'chunk-000000'));
    assert.equal(chunk[0], 7, "the snapshot's blocks, not the volume's since");
    assert.equal((await s.request('GET', `snapshots/${snapshotId}`)).body.snapshot.status, 'available');

    const other = await createVolume(s);
    assertFault(
      await s.request('POST', 'backups', { body: { backup: { volume_id: other.id, snapshot_id: snapshotId } } }),
      400,
      'badRequest',
      `Invalid volume: Volume ${other.id} does not match with snapshot.volume_id ${volume.id}.`,
    );
    assertFault(
      await s.request('POST', 'backups', { body: { backup: { volume_id: other.id, incremental: true } } }),
      400,
      'badRequest',
      'Invalid backup: No backups available to do an incremental backup.',
    );
    assertFault(
      await s.request('POST', 'backups', { body: { backup: { volume_id: '7d6b1c57-6b5f-4c8e-9a57-1b9f3c2a1d00' } } }),
      404,
      'itemNotFound',
      'Volume 7d6b1c57-6b5f-4c8e-9a57-1b9f3c2a1d00 could not be found.',
    );
    assertFault(await s.request('POST', 'backups', { body: { backup: { volume_id: other.id, bogus: 1 } } }), 400, 'badRequest', /Additional properties are not allowed/);
    assertFault(
      await s.request('POST', 'backups', { body: { backup: { volume_id: other.id, metadata: { a: 'b' } } }, version: '3.42' }),
      400,
      'badRequest',
      /Additional properties are not allowed \('metadata' was unexpected\)/,
    );

    // Data to read makes the copy take a while (a volume never written is copied at once).
    await writeVolume(s, other.id, 0, randomBytes(4096));
    assert.equal((await action(s, other.id, { 'os-attach': { instance_uuid: SERVER_ID, mountpoint: '/dev/vdb', mode: 'rw' } })).status, 202);
    assertFault(
      await s.request('POST', 'backups', { body: { backup: { volume_id: other.id } } }),
      400,
      'badRequest',
      'Invalid volume: Backing up an in-use volume must use the force flag.',
    );
    const forced = await s.request('POST', 'backups', { body: { backup: { volume_id: other.id, force: true, metadata: { a: 'b' } } }, version: '3.43' });
    assert.equal(forced.status, 202, forced.text);
    assert.equal((await s.request('GET', `volumes/${other.id}`)).body.volume.status, 'backing-up');
    assertFault(
      await s.request('POST', 'backups', { body: { backup: { volume_id: other.id, force: true } } }),
      400,
      'badRequest',
      'Invalid volume: Volume to be backed up must be available or in-use, but the current status is "backing-up".',
    );
    assertFault(await s.request('DELETE', `backups/${forced.body.backup.id}`), 400, 'badRequest', 'Invalid backup: Backup status must be available or error');
    const done = await waitForBackup(s, forced.body.backup.id, ['available']);
    assert.deepEqual((await s.request('GET', `backups/${done.id}`, { version: '3.43' })).body.backup.metadata, { a: 'b' });
    assert.equal((await s.waitForVolume(other.id, ['in-use'], 120_000)).status, 'in-use', 'the volume goes back to the status it had');
    assertFault(
      await s.request('POST', `backups/${done.id}/restore`, { body: { restore: { volume_id: other.id } } }),
      400,
      'badRequest',
      'Invalid volume: Volume to be restored to must be available',
    );
    assert.equal((await s.request('GET', `backups/${done.id}`)).body.backup.status, 'available', 'a refused restore changes nothing');
  });

  test('lists filter, sort and page; with_count at 3.45; quotas count backups and their gigabytes', async (t) => {
    const s = await serviceOn(t, db().name, { quotaBackups: 2, quotaBackupGigabytes: 3 });
    const small = await createVolume(s, { size: 1 });
    const big = await createVolume(s, { size: 2 });
    const a = await createBackup(s, { volume_id: small.id, name: 'a' });
    const b = await createBackup(s, { volume_id: big.id, name: 'b' });
    assertFault(
      await s.request('POST', 'backups', { body: { backup: { volume_id: small.id } } }),
      413,
      'overLimit',
      'Maximum number of backups allowed (2) exceeded',
    );
    assert.equal((await s.request('GET', `volumes/${small.id}`)).body.volume.status, 'available', 'a refused backup leaves the volume as it was');

    assert.deepEqual((await s.request('GET', 'backups')).body.backups.map((x: any) => x.id), [b.id, a.id], 'newest first');
    assert.deepEqual((await s.request('GET', 'backups?sort=name:asc', { version: '3.37' })).body.backups.map((x: any) => x.name), ['a', 'b']);
    assertFault(await s.request('GET', 'backups?sort=name:asc', { version: '3.36' }), 400, 'badRequest', 'Invalid input received: Invalid sort key name');
    assert.deepEqual((await s.request('GET', `backups?volume_id=${big.id}`)).body.backups.map((x: any) => x.id), [b.id]);
    assert.deepEqual((await s.request('GET', 'backups?name=a')).body.backups.map((x: any) => x.id), [a.id]);
    assert.deepEqual((await s.request('GET', 'backups?nonsense=1')).body.backups, [], "an administrator's filter on no column matches nothing");
    const page = await s.request('GET', 'backups/detail?limit=1&with_count=true', { version: '3.45' });
    assert.equal(page.body.count, 2);
    assert.equal(page.body.backups.length, 1);
    assert.match(page.body.backups_links[0].href, new RegExp(`/backups/detail\\?limit=1&with_count=true&marker=${b.id}$`));
    const next = await s.request('GET', `backups?limit=1&marker=${b.id}`);
    assert.deepEqual(next.body.backups.map((x: any) => x.id), [a.id]);
    assert.ok(!('count' in (await s.request('GET', 'backups?with_count=true', { version: '3.44' })).body));

    const usage = await s.request('GET', `os-quota-sets/${s.projectId}?usage=true`);
    assert.deepEqual(usage.body.quota_set.backups, { limit: 2, in_use: 2, reserved: 0 });
    assert.deepEqual(usage.body.quota_set.backup_gigabytes, { limit: 3, in_use: 3, reserved: 0 });
    await s.request('DELETE', `backups/${a.id}`);
    await waitForBackup(s, a.id, ['deleted']);
    assertFault(
      await s.request('POST', 'backups', { body: { backup: { volume_id: big.id } } }),
      413,
      'overLimit',
      'Requested backup exceeds allowed Backup gigabytes quota. Requested 2G, quota is 3G and 2G has been consumed.',
    );
    const after = await s.request('GET', `os-quota-sets/${s.projectId}?usage=true`);
    assert.equal(after.body.quota_set.backups.in_use, 1);
    assert.equal(after.body.quota_set.backup_gigabytes.in_use, 2);

    // Force delete: an administrator's action, from any status but deleting.
    await s.request('POST', `backups/${b.id}/action`, { body: { 'os-reset_status': { status: 'error' } } });
    assertEmpty(await s.request('POST', `backups/${b.id}/action`, { body: { 'os-force_delete': {} } }), 202);
    await waitForBackup(s, b.id, ['deleted']);
    assert.equal((await s.request('GET', `os-quota-sets/${s.projectId}?usage=true`)).body.quota_set.backups.in_use, 0);
  });
});
