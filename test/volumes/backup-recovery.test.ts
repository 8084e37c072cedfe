import assert from 'node:assert/strict';
import { test } from 'node:test';
import { forEachDatabase } from '../helpers/databases.js';
import { availableVolume, serviceForSuite, userCtx, waitForStatus } from './harness.js';

async function waitForBackup(read: () => Promise<{ status: string } | undefined>, status: string | null): Promise<void> {
  for (let i = 0; i < 400; i++) {
    const row = await read();
    if ((row?.status ?? null) === status) return;
    await new Promise((r) => setTimeout(r, 25));
  }
  assert.fail(`backup never became ${status}`);
}

forEachDatabase('backups after a restart', (db) => {
  const suite = serviceForSuite(db);

  test('a backup left creating is in error and its volume back as it was; a restore left running fails the volume; a delete is done again', async () => {
    const ctx = userCtx();
    const storage = suite.svc.storage;
    const source = await availableVolume(storage, ctx);
    const target = await availableVolume(storage, ctx);
    const made = await storage.createBackup(ctx, { volumeId: source.id, incremental: false, force: false });
    const doomed = await storage.createBackup(ctx, { volumeId: target.id, incremental: false, force: false });
    const backupOf = (id: string) => () => suite.raw.db.selectFrom('backups').select('status').where('id', '=', id).executeTakeFirst();
    await waitForBackup(backupOf(made.id), 'available');
    await waitForBackup(backupOf(doomed.id), 'available');
    await waitForStatus(storage, ctx, source.id, ['available']);

    // What a crash in the middle of each step leaves behind.
    const raw = suite.raw.db;
    await raw.updateTable('backups').set({ status: 'creating' }).where('id', '=', made.id).execute();
    await raw.updateTable('volumes').set({ status: 'backing-up', previous_status: 'available' }).where('id', '=', source.id).execute();
    await raw.updateTable('backups').set({ status: 'restoring', restore_volume_id: target.id }).where('id', '=', doomed.id).execute();
    await raw.updateTable('volumes').set({ status: 'restoring-backup' }).where('id', '=', target.id).execute();
    const deleting = await storage.createBackup(ctx, { volumeId: source.id, incremental: false, force: false }).catch(() => null);
    assert.equal(deleting, null, 'a volume backing up takes no second backup');

    await suite.svc.restart();

    const after = suite.svc.storage;
    const failed = await after.getBackup(ctx, made.id);
    assert.equal(failed.status, 'error');
    assert.equal(failed.failReason, 'the service stopped before the backup finished');
    assert.equal((await after.getVolume(ctx, source.id)).status, 'available');
    assert.equal((await after.getBackup(ctx, doomed.id)).status, 'available');
    assert.equal((await after.getVolume(ctx, target.id)).status, 'error_restoring');

    await raw.updateTable('backups').set({ status: 'deleting' }).where('id', '=', doomed.id).execute();
    await suite.svc.restart();
    await waitForBackup(backupOf(doomed.id), null);
    const usage = await raw.selectFrom('quota_usages').select(['resource', 'in_use']).where('project_id', '=', ctx.projectId).where('resource', 'in', ['backups', 'backup_gigabytes']).orderBy('resource').execute();
    assert.deepEqual(usage.map((u) => [u.resource, Number(u.in_use)]), [['backup_gigabytes', 1], ['backups', 1]]);
  });
});
