import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { test } from 'node:test';
import { openDatabase } from '../../src/db/index.js';
import type { RequestContext } from '../../src/volumes/types.js';
import { assertTempestSchema, requireTempestSchemas } from '../helpers/tempest-schema.js';
import type { RequestOptions, TestService } from '../helpers/service.js';
import { assertEmpty, assertFault, createVolume, forEachDatabase, serviceOn } from './support.js';

/** A second project on the same service, as noauth lets any caller name its own. */
function otherProject(s: TestService) {
  const projectId = randomUUID().replace(/-/g, '');
  return {
    projectId,
    request: (method: string, path: string, opts: RequestOptions = {}) =>
      s.request(method, `/v3/${projectId}/${path}`, { ...opts, headers: { 'X-Auth-Token': `alt:${projectId}`, ...opts.headers } }),
  };
}

async function usage(s: TestService, project: string): Promise<Record<string, number>> {
  const res = await s.request('GET', `os-quota-sets/${project}?usage=True`);
  assert.equal(res.status, 200, res.text);
  const set = res.body.quota_set as Record<string, { in_use: number }>;
  return { volumes: set.volumes!.in_use, gigabytes: set.gigabytes!.in_use, snapshots: set.snapshots!.in_use };
}

async function snapshotOf(s: TestService, volumeId: string): Promise<string> {
  const res = await s.request('POST', 'snapshots', { body: { snapshot: { volume_id: volumeId } } });
  assert.equal(res.status, 202, res.text);
  const id = res.body.snapshot.id as string;
  for (const deadline = Date.now() + 20_000; Date.now() < deadline; await new Promise((r) => setTimeout(r, 25))) {
    if ((await s.request('GET', `snapshots/${id}`)).body.snapshot.status === 'available') return id;
  }
  throw new Error(`snapshot ${id} never became available`);
}

function member(projectId: string): RequestContext {
  return { userId: 'u', projectId, roles: ['member', 'reader'], isAdmin: false, isAdminProject: false, isService: false, requestId: 'req-test' };
}

forEachDatabase('volume transfers API', (db) => {
  test('create, show, list, detail and accept by another project, at 3.0, 3.55 and 3.57', async (t) => {
    if (!requireTempestSchemas(t)) return;
    const s = await serviceOn(t, db().name);
    const alt = otherProject(s);
    for (const [collection, version, prefix] of [
      ['os-volume-transfer', '3.0', ''],
      ['volume-transfers', '3.55', 'v3_55.'],
      ['volume-transfers', '3.57', 'v3_57.'],
    ] as const) {
      const volume = await createVolume(s);
      const created = await s.request('POST', collection, { version, body: { transfer: { volume_id: volume.id, name: '  move me ' } } });
      await assertTempestSchema(created, `${prefix}transfers.create_volume_transfer`);
      const transfer = created.body.transfer;
      assert.equal(transfer.name, 'move me', 'the name is stripped');
      assert.match(transfer.auth_key, /^[0-9a-f]{16}$/);
      assert.match(transfer.links[0].href, new RegExp(`/v3/${s.projectId}/os-volume-transfer/${transfer.id}$`));
      if (version === '3.57') {
        assert.equal(transfer.source_project_id, s.projectId);
        assert.equal(transfer.destination_project_id, null);
        assert.equal(transfer.accepted, false);
      }
      assert.equal((await s.waitForVolume(volume.id, ['awaiting-transfer'])).status, 'awaiting-transfer');

      const shown = await s.request('GET', `${collection}/${transfer.id}`, { version });
      await assertTempestSchema(shown, `${prefix}transfers.show_volume_transfer`);
      assert.ok(!('auth_key' in shown.body.transfer), 'the key is shown on create only');
      assert.equal(shown.body.transfer.no_snapshots, version === '3.0' ? undefined : false);
      const listed = await s.request('GET', collection, { version });
      await assertTempestSchema(listed, `${prefix}transfers.list_volume_transfers_no_detail`);
      assert.deepEqual(listed.body.transfers.map((x: any) => x.id), [transfer.id]);
      const detail = await s.request('GET', `${collection}/detail`, { version });
      await assertTempestSchema(detail, `${prefix}transfers.list_volume_transfers_with_detail`);
      assert.equal(detail.body.transfers[0].volume_id, volume.id);

      assertFault(
        await alt.request('POST', `${collection}/${transfer.id}/accept`, { version, body: { accept: { auth_key: 'not-the-key' } } }),
        400,
        'badRequest',
        `Invalid auth key: Attempt to transfer ${transfer.id} with invalid auth key.`,
      );
      const accepted = await alt.request('POST', `${collection}/${transfer.id}/accept`, { version, body: { accept: { auth_key: transfer.auth_key } } });
      await assertTempestSchema(accepted, `${prefix}transfers.accept_volume_transfer`);
      assert.deepEqual([accepted.body.transfer.id, accepted.body.transfer.volume_id], [transfer.id, volume.id]);
      const moved = (await alt.request('GET', `volumes/${volume.id}`)).body.volume;
      assert.deepEqual([moved.status, moved.user_id, moved['os-vol-tenant-attr:tenant_id']], ['available', 'alt', alt.projectId]);
      assertFault(await s.request('GET', `${collection}/${transfer.id}`, { version }), 404, 'itemNotFound', `Transfer ${transfer.id} could not be found.`);
    }
    assert.deepEqual((await s.request('GET', 'os-volume-transfer')).body.transfers, []);
  });

  test('delete gives the volume back; the delete answer is as tempest expects', async (t) => {
    if (!requireTempestSchemas(t)) return;
    const s = await serviceOn(t, db().name);
    const volume = await createVolume(s);
    const { transfer } = (await s.request('POST', 'volume-transfers', { version: '3.57', body: { transfer: { volume_id: volume.id } } })).body;
    assert.equal(transfer.name, null);
    const deleted = await s.request('DELETE', `volume-transfers/${transfer.id}`, { version: '3.57' });
    assertEmpty(deleted, 202);
    await assertTempestSchema(deleted, 'v3_57.transfers.delete_volume_transfer');
    assert.equal((await s.request('GET', `volumes/${volume.id}`)).body.volume.status, 'available');
    assertFault(await s.request('DELETE', `volume-transfers/${transfer.id}`), 404, 'itemNotFound', `Transfer ${transfer.id} could not be found.`);
    assertFault(
      await s.request('POST', `volume-transfers/${transfer.id}/accept`, { body: { accept: { auth_key: transfer.auth_key } } }),
      404,
      'itemNotFound',
      `Transfer ${transfer.id} could not be found.`,
    );
  });

  test('accept moves the snapshots and the quota usage of both; no_snapshots leaves them', async (t) => {
    const s = await serviceOn(t, db().name);
    const alt = otherProject(s);
    const volume = await createVolume(s, { size: 2 });
    await snapshotOf(s, volume.id);
    const before = await usage(s, s.projectId);
    assert.deepEqual(before, { volumes: 1, gigabytes: 4, snapshots: 1 });

    const { transfer } = (await s.request('POST', 'volume-transfers', { version: '3.55', body: { transfer: { volume_id: volume.id } } })).body;
    assert.equal((await alt.request('POST', `volume-transfers/${transfer.id}/accept`, { body: { accept: { auth_key: transfer.auth_key } } })).status, 202);
    assert.deepEqual(await usage(s, s.projectId), { volumes: 0, gigabytes: 0, snapshots: 0 });
    assert.deepEqual(await usage(s, alt.projectId), { volumes: 1, gigabytes: 4, snapshots: 1 });
    const snapshots = (await alt.request('GET', `snapshots/detail?volume_id=${volume.id}`)).body.snapshots;
    assert.equal(snapshots[0]['os-extended-snapshot-attributes:project_id'], alt.projectId);

    const kept = await createVolume(s, { size: 3 });
    const snapshot = await snapshotOf(s, kept.id);
    const offer = await s.request('POST', 'volume-transfers', { version: '3.55', body: { transfer: { volume_id: kept.id, no_snapshots: true } } });
    assert.equal(offer.body.transfer.no_snapshots, true);
    assert.equal((await alt.request('POST', `volume-transfers/${offer.body.transfer.id}/accept`, { body: { accept: { auth_key: offer.body.transfer.auth_key } } })).status, 202);
    assert.deepEqual(await usage(s, s.projectId), { volumes: 0, gigabytes: 3, snapshots: 1 });
    assert.deepEqual(await usage(s, alt.projectId), { volumes: 2, gigabytes: 7, snapshots: 1 });
    assert.equal((await s.request('GET', `snapshots/${snapshot}`)).body.snapshot['os-extended-snapshot-attributes:project_id'], s.projectId);
  });

  test("Cinder's refusals: volume state, snapshot state, schemas, quota 413 that changes nothing", async (t) => {
    const s = await serviceOn(t, db().name);
    const alt = otherProject(s);
    const volume = await createVolume(s, { size: 2 });
    const missing = randomUUID();
    assertFault(await s.request('POST', 'os-volume-transfer', { body: { transfer: { volume_id: missing } } }), 404, 'itemNotFound', `Volume ${missing} could not be found.`);
    assertFault(await s.request('POST', 'os-volume-transfer', { body: { transfer: { volume_id: volume.id, no_snapshots: true } } }), 400, 'badRequest', /no_snapshots/);
    assertFault(await s.request('POST', 'volume-transfers', { version: '3.54', body: { transfer: { volume_id: volume.id, no_snapshots: true } } }), 400, 'badRequest', /no_snapshots/);
    assertFault(await s.request('POST', 'volume-transfers', { body: { transfer: { volume_id: volume.id, name: '   ' } } }), 400, 'badRequest', "An invalid 'name' value was provided. The 'name' can not be empty.");
    assertFault(await s.request('POST', 'volume-transfers', { body: { transfer: {} } }), 400, 'badRequest', /volume_id/);

    const snapshot = await snapshotOf(s, volume.id);
    const handle = await openDatabase(s.config.database, { migrate: false });
    try {
      await handle.db.updateTable('snapshots').set({ status: 'error' }).where('id', '=', snapshot).execute();
    } finally {
      await handle.close();
    }
    assertFault(await s.request('POST', 'volume-transfers', { body: { transfer: { volume_id: volume.id } } }), 400, 'badRequest', `Invalid snapshot: snapshot: ${snapshot} status must be available`);

    const { transfer } = (await s.request('POST', 'volume-transfers', { version: '3.55', body: { transfer: { volume_id: volume.id, no_snapshots: true } } })).body;
    assertFault(await s.request('POST', 'volume-transfers', { body: { transfer: { volume_id: volume.id } } }), 400, 'badRequest', 'Invalid volume: status must be available');
    assertFault(await s.request('POST', `volumes/${volume.id}/action`, { body: { 'os-extend': { new_size: 3 } } }), 400, 'badRequest');
    assertFault(await alt.request('POST', `volume-transfers/${transfer.id}/accept`, { body: { accept: {} } }), 400, 'badRequest', /auth_key/);

    assert.equal((await s.request('PUT', `os-quota-sets/${alt.projectId}`, { body: { quota_set: { gigabytes: 1 } } })).status, 200);
    const refused = await alt.request('POST', `volume-transfers/${transfer.id}/accept`, { body: { accept: { auth_key: transfer.auth_key } } });
    assertFault(refused, 413, 'overLimit', "Requested volume or snapshot exceeds allowed gigabytes quota. Requested 2G, quota is 1G and 0G has been consumed.");
    assert.equal(refused.headers.get('retry-after'), '0');
    assert.equal((await s.request('GET', `volumes/${volume.id}`)).body.volume.status, 'awaiting-transfer');
    assert.deepEqual(await usage(s, alt.projectId), { volumes: 0, gigabytes: 0, snapshots: 0 });
    assert.deepEqual(await usage(s, s.projectId), { volumes: 1, gigabytes: 4, snapshots: 1 });

    assert.equal((await s.request('PUT', `os-quota-sets/${alt.projectId}`, { body: { quota_set: { gigabytes: 100, per_volume_gigabytes: 1 } } })).status, 200);
    assertFault(
      await alt.request('POST', `volume-transfers/${transfer.id}/accept`, { body: { accept: { auth_key: transfer.auth_key } } }),
      413,
      'overLimit',
      'Requested volume size 2G is larger than maximum allowed limit 1G.',
    );
  });

  test('lists: filters on columns only, all_tenants for administrators, pages from 3.59; other projects see 404', async (t) => {
    const s = await serviceOn(t, db().name);
    const alt = otherProject(s);
    const ids: string[] = [];
    for (const name of ['a', 'b', 'c']) {
      const volume = await createVolume(s);
      ids.push((await s.request('POST', 'volume-transfers', { body: { transfer: { volume_id: volume.id, name } } })).body.transfer.id);
    }
    const names = async (path: string, version?: string) => (await s.request('GET', path, version ? { version } : {})).body.transfers.map((x: any) => x.name);
    assert.deepEqual(await names('volume-transfers'), ['a', 'b', 'c'], 'oldest first');
    assert.deepEqual(await names('volume-transfers', '3.59'), ['c', 'b', 'a'], 'newest first from 3.59');
    assert.deepEqual(await names('volume-transfers?name=b'), ['b']);
    assert.deepEqual(await names('os-volume-transfer?limit=1'), [], 'before 3.59 limit is a filter no column matches, as in Cinder');
    const page = await s.request('GET', 'volume-transfers?limit=2&sort=name:asc', { version: '3.59' });
    assert.deepEqual(page.body.transfers.map((x: any) => x.name), ['a', 'b']);
    assert.match(page.body.transfers_links[0].href, new RegExp(`marker=${ids[1]}`));
    assert.deepEqual(await names(`volume-transfers?marker=${ids[1]}&sort=name:asc`, '3.59'), ['c']);

    assert.deepEqual((await alt.request('GET', 'volume-transfers')).body.transfers, [], 'another project lists only its own');
    assert.equal((await alt.request('GET', 'volume-transfers?all_tenants=1')).body.transfers.length, 3);
    const stranger = member(alt.projectId);
    await assert.rejects(s.app.storage.getTransfer(stranger, ids[0]!), { status: 404, message: `Transfer ${ids[0]} could not be found.` });
    await assert.rejects(s.app.storage.deleteTransfer(stranger, ids[0]!), { status: 404 });
    assert.equal((await s.app.storage.listTransfers(stranger, { allTenants: true, filters: {}, sort: [] })).length, 0);
    await assert.rejects(s.app.storage.acceptTransfer({ ...stranger, roles: ['reader'] }, ids[0]!, 'x'), { status: 403 });
  });
});
