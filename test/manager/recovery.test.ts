import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { open, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { test } from 'node:test';
import { promisify } from 'node:util';
import { nowTimestamp } from '../../src/db/schema.js';
import { requireTool } from '../helpers/env.js';
import { forEachDatabase } from '../helpers/databases.js';
import {
  SERVER_A,
  availableVolume,
  connector,
  serviceForSuite,
  userCtx,
  waitForGone,
  waitForStatus,
} from '../volumes/harness.js';

const run = promisify(execFile);

/** Logs in with libiscsi exactly as connection_info says; resolves to whether the login succeeded. */
async function canLogin(tool: string, info: Record<string, unknown>, initiator: string): Promise<boolean> {
  const url = `iscsi://${String(info['auth_username'])}%${String(info['auth_password'])}@${String(info['target_portal'])}/${String(info['target_iqn'])}/${String(info['target_lun'])}`;
  try {
    await run(tool, ['-i', initiator, url], { timeout: 10_000 });
    return true;
  } catch {
    return false;
  }
}

forEachDatabase('start-up recovery', (db) => {
  const suite = serviceForSuite(db);

  test('exports, CHAP accounts and access lists come back from the database after a restart', async (t) => {
    const ctx = userCtx();
    const viaApi = await availableVolume(suite.svc.storage, ctx);
    const viaLegacy = await availableVolume(suite.svc.storage, ctx);
    const hostA = connector('recover-a');
    const hostB = connector('recover-b');
    const att = await suite.svc.storage.createAttachment(ctx, { volumeId: viaApi.id, instanceUuid: SERVER_A, connector: hostA });
    await suite.svc.storage.completeAttachment(ctx, att.id);
    await suite.svc.storage.reserve(ctx, viaLegacy.id);
    const legacyInfo = await suite.svc.storage.initializeConnection(ctx, viaLegacy.id, hostB);
    await suite.svc.storage.attach(ctx, viaLegacy.id, { instanceUuid: SERVER_A, mountpoint: '/dev/vdb', mode: 'ro' });
    const before = await suite.raw.db.selectFrom('volumes').select(['id', 'provider_location', 'provider_auth']).where('id', 'in', [viaApi.id, viaLegacy.id]).orderBy('id').execute();

    await suite.svc.restart();

    const restored = await suite.raw.db.selectFrom('volumes').select(['id', 'provider_location', 'provider_auth']).where('id', 'in', [viaApi.id, viaLegacy.id]).orderBy('id').execute();
    assert.deepEqual(restored, before);
    const apiExport = suite.svc.target.exports.get(`iqn.2010-10.org.openstack:volume-${viaApi.id}`);
    const legacyExport = suite.svc.target.exports.get(`iqn.2010-10.org.openstack:volume-${viaLegacy.id}`);
    assert.deepEqual([...apiExport!.access], [[hostA['initiator'], false]]);
    assert.deepEqual([...legacyExport!.access], [[hostB['initiator'], false]]);
    assert.equal(apiExport!.chap.password, att.connectionInfo!['auth_password']);
    assert.deepEqual(await suite.svc.storage.getAttachment(ctx, att.id).then((a) => a.connectionInfo), att.connectionInfo);

    const tool = requireTool(t, 'iscsi-inq');
    if (!tool) return;
    assert.equal(await canLogin(tool, att.connectionInfo!, String(hostA['initiator'])), true, 'the attached host logs in after the restart');
    assert.equal(await canLogin(tool, legacyInfo.data, String(hostB['initiator'])), true);
    assert.equal(await canLogin(tool, att.connectionInfo!, 'iqn.1993-08.org.debian:01:stranger'), false, 'an initiator never granted is refused');
    assert.equal(
      await canLogin(tool, { ...att.connectionInfo!, auth_password: 'WrongPassword234' }, String(hostA['initiator'])),
      false,
      'a wrong CHAP password is refused',
    );
    await suite.svc.storage.deleteAttachment({ ...ctx, isService: true }, att.id);
    assert.equal(await canLogin(tool, att.connectionInfo!, String(hostA['initiator'])), false, 'a detached host is refused');
  });

  test('volumes left creating, deleting or extending are settled at start-up', async () => {
    const ctx = userCtx();
    const doomed = await availableVolume(suite.svc.storage, ctx);
    const growing = await availableVolume(suite.svc.storage, ctx);
    const fresh = randomUUID();
    const template = await suite.raw.db.selectFrom('volumes').selectAll().where('id', '=', doomed.id).executeTakeFirstOrThrow();
    await suite.raw.db.insertInto('volumes').values({ ...template, id: fresh, status: 'creating', size: 2, created_at: nowTimestamp() }).execute();
    const elsewhere = randomUUID();
    await suite.raw.db
      .insertInto('volumes')
      .values({ ...template, id: elsewhere, status: 'creating', host: 'otherhost@file#file', created_at: nowTimestamp() })
      .execute();
    await suite.raw.db.updateTable('volumes').set({ status: 'deleting' }).where('id', '=', doomed.id).execute();
    await suite.raw.db.updateTable('volumes').set({ status: 'extending', previous_status: 'available' }).where('id', '=', growing.id).execute();

    await suite.svc.restart();

    const created = await waitForStatus(suite.svc.storage, ctx, fresh, 'available');
    assert.equal(created.size, 2);
    assert.equal((await stat(join(suite.svc.config.dataDir, 'volumes', `volume-${fresh}`))).size, 2 * 1024 ** 3);
    await waitForGone(suite.svc.storage, ctx, doomed.id);
    await assert.rejects(stat(join(suite.svc.config.dataDir, 'volumes', `volume-${doomed.id}`)), { code: 'ENOENT' });
    assert.equal((await suite.svc.storage.getVolume(ctx, growing.id)).status, 'error_extending');
    assert.equal((await suite.svc.storage.getVolume(ctx, elsewhere)).status, 'creating', "another host's volume is that host's business");
  });

  test('a revert left half done is copied again at start-up, and both end available', async () => {
    const ctx = userCtx();
    const volume = await availableVolume(suite.svc.storage, ctx);
    const path = join(suite.svc.config.dataDir, 'volumes', `volume-${volume.id}`);
    await writeFile(path, 'kept', { flag: 'r+' });
    const snapshot = await suite.svc.storage.createSnapshot(ctx, { volumeId: volume.id, force: false });
    for (let i = 0; i < 400 && (await suite.svc.storage.getSnapshot(ctx, snapshot.id)).status !== 'available'; i++) await new Promise((r) => setTimeout(r, 5));
    await writeFile(path, 'lost', { flag: 'r+' });
    // As a crash in the middle of the copy leaves them.
    await suite.raw.db.updateTable('volumes').set({ status: 'reverting' }).where('id', '=', volume.id).execute();
    await suite.raw.db.updateTable('snapshots').set({ status: 'restoring' }).where('id', '=', snapshot.id).execute();

    await suite.svc.restart();

    await waitForStatus(suite.svc.storage, ctx, volume.id, 'available');
    assert.equal((await suite.svc.storage.getSnapshot(ctx, snapshot.id)).status, 'available');
    const file = await open(path, 'r');
    const head = Buffer.alloc(4);
    await file.read(head, 0, 4, 0);
    await file.close();
    assert.equal(head.toString(), 'kept');
  });
});
