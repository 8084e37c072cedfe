import assert from 'node:assert/strict';
import { test } from 'node:test';
import { assertTempestSchema, requireTempestSchemas } from '../helpers/tempest-schema.js';
import { createGroup, createGroupVolume, GROUPS_VERSION, waitFor } from './group-support.js';
import { assertEmpty, assertFault, forEachDatabase, serviceOn } from './support.js';

const version = GROUPS_VERSION;

forEachDatabase('group snapshots API', (db) => {
  test('create (a snapshot per member), show, list, detail, delete; tempest schemas', async (t) => {
    if (!requireTempestSchemas(t)) return;
    const s = await serviceOn(t, db().name);
    const { group, volumeType, groupType } = await createGroup(s);
    const [v1, v2] = [await createGroupVolume(s, group.id, volumeType.id), await createGroupVolume(s, group.id, volumeType.id)];
    const created = await s.request('POST', 'group_snapshots', { body: { group_snapshot: { group_id: group.id, name: 'gs1' } }, version });
    await assertTempestSchema(created, 'group_snapshots.create_group_snapshot');
    const id = created.body.group_snapshot.id;
    assert.deepEqual(created.body.group_snapshot, { id, name: 'gs1', group_type_id: groupType.id });
    await waitFor(s, `group_snapshots/${id}`, 'group_snapshot', ['available']);

    const snapshots = (await s.request('GET', 'snapshots/detail', { version })).body.snapshots;
    assert.deepEqual(snapshots.map((x: any) => x.volume_id).sort(), [v1.id, v2.id].sort());
    assert.ok(snapshots.every((x: any) => x.group_snapshot_id === id && x.status === 'available' && x.name === 'gs1'));
    assertFault(
      await s.request('DELETE', `snapshots/${snapshots[0].id}`),
      400,
      'badRequest',
      'Invalid snapshot: Snapshot status must be available or error and must not be part of a group.',
    );
    assertFault(
      await s.request('POST', `snapshots/${snapshots[0].id}/action`, { body: { 'os-force_delete': {} } }),
      400,
      'badRequest',
      'Invalid snapshot: Snapshot  must not be part of a group.',
    );

    const shown = await s.request('GET', `group_snapshots/${id}`, { version });
    await assertTempestSchema(shown, 'group_snapshots.show_group_snapshot');
    assert.deepEqual({ ...shown.body.group_snapshot, created_at: 'x' }, {
      id,
      group_id: group.id,
      group_type_id: groupType.id,
      status: 'available',
      created_at: 'x',
      name: 'gs1',
      description: null,
    });
    const summary = await s.request('GET', 'group_snapshots', { version });
    await assertTempestSchema(summary, 'group_snapshots.list_group_snapshots_no_detail');
    assert.deepEqual(summary.body.group_snapshots, [{ id, name: 'gs1' }]);
    const detail = await s.request('GET', 'group_snapshots/detail', { version });
    await assertTempestSchema(detail, 'group_snapshots.list_group_snapshots_with_detail');
    assert.deepEqual((await s.request('GET', 'group_snapshots?status=error', { version: '3.29' })).body.group_snapshots, []);
    assert.equal((await s.request('GET', 'group_snapshots/detail', { version: '3.58' })).body.group_snapshots[0].project_id, s.projectId);

    assertFault(
      await s.request('POST', `groups/${group.id}/action`, { body: { delete: { 'delete-volumes': true } }, version }),
      400,
      'badRequest',
      'Invalid Group: Group has existing snapshots.',
    );
    // Out of its group, a volume still goes only without its group snapshot's member.
    assertEmpty(await s.request('PUT', `groups/${group.id}`, { body: { group: { remove_volumes: v1.id } }, version }), 202);
    assertFault(await s.request('DELETE', `volumes/${v1.id}?cascade=true`), 400, 'badRequest', /must not be migrating, attached, belong to a group, have snapshots/);
    const deleted = await s.request('DELETE', `group_snapshots/${id}`, { version });
    await assertTempestSchema(deleted, 'group_snapshots.delete_group_snapshot');
    await waitFor(s, `group_snapshots/${id}`, 'group_snapshot', ['deleted']);
    assert.deepEqual((await s.request('GET', 'snapshots')).body.snapshots, [], 'its snapshots went with it');
    const quota = await s.request('GET', `os-quota-sets/${s.projectId}?usage=true`);
    assert.equal(quota.body.quota_set.snapshots.in_use, 0);
  });

  test('a group from a group snapshot: a volume from each member snapshot', async (t) => {
    const s = await serviceOn(t, db().name);
    const { group, volumeType } = await createGroup(s);
    await createGroupVolume(s, group.id, volumeType.id);
    const gs = (await s.request('POST', 'group_snapshots', { body: { group_snapshot: { group_id: group.id } }, version })).body.group_snapshot;
    await waitFor(s, `group_snapshots/${gs.id}`, 'group_snapshot', ['available']);
    const snapshot = (await s.request('GET', 'snapshots/detail', { version })).body.snapshots[0];
    const created = await s.request('POST', 'groups/action', { body: { 'create-from-src': { group_snapshot_id: gs.id, name: 'restored' } }, version });
    assert.equal(created.status, 202, created.text);
    const copy = await waitFor(s, `groups/${created.body.group.id}`, 'group', ['available', 'error']);
    assert.equal(copy.status, 'available');
    assert.equal(copy.group_snapshot_id, gs.id);
    const members = (await s.request('GET', `groups/${copy.id}?list_volume=true`, { version: '3.25' })).body.group.volumes;
    const volume = (await s.request('GET', `volumes/${members[0]}`, { version })).body.volume;
    assert.equal(volume.snapshot_id, snapshot.id);
    assert.equal(volume.status, 'available');

    // A copy refused before any was made leaves no group behind, nor any of the groups quota taken.
    assert.equal((await s.request('PUT', `os-quota-sets/${s.projectId}`, { body: { quota_set: { volumes: 2 } } })).status, 200);
    assertFault(
      await s.request('POST', 'groups/action', { body: { 'create-from-src': { group_snapshot_id: gs.id } }, version }),
      413,
      'overLimit',
      "Maximum number of volumes allowed (2) exceeded for quota 'volumes'.",
    );
    assert.deepEqual((await s.request('GET', 'groups', { version })).body.groups.map((g: any) => g.id).sort(), [group.id, copy.id].sort());
    assert.equal((await s.request('GET', `os-quota-sets/${s.projectId}?usage=true`)).body.quota_set.groups.in_use, 2);
  });

  test("Cinder's refusals and reset_status", async (t) => {
    if (!requireTempestSchemas(t)) return;
    const s = await serviceOn(t, db().name);
    assertFault(await s.request('GET', 'group_snapshots', { version: '3.13' }), 404, 'itemNotFound', 'The resource could not be found.');
    const { group, volumeType } = await createGroup(s);
    await createGroupVolume(s, group.id, volumeType.id);
    const gs = (await s.request('POST', 'group_snapshots', { body: { group_snapshot: { group_id: group.id } }, version })).body.group_snapshot;
    await waitFor(s, `group_snapshots/${gs.id}`, 'group_snapshot', ['available']);
    assertFault(await s.request('POST', `group_snapshots/${gs.id}/action`, { body: { reset_status: { status: 'error' } }, version: '3.18' }), 404, 'itemNotFound');
    assertFault(
      await s.request('POST', `group_snapshots/${gs.id}/action`, { body: { reset_status: { status: 'in-use' } }, version }),
      400,
      'badRequest',
      "Invalid GroupSnapshot Status: Group snapshot status: in-use is invalid, valid statuses are: ('error', 'available', 'creating', 'deleting', 'deleted', 'updating', 'error_deleting').",
    );
    const reset = await s.request('POST', `group_snapshots/${gs.id}/action`, { body: { reset_status: { status: 'creating' } }, version });
    await assertTempestSchema(reset, 'group_snapshots.reset_group_snapshot_status');
    assertEmpty(reset, 202);
    assertFault(
      await s.request('DELETE', `group_snapshots/${gs.id}`, { version }),
      400,
      'badRequest',
      'Invalid GroupSnapshot: GroupSnapshot status must be available or error, and no Group can be currently using it as source for its creation.',
    );
    const groupReset = await s.request('POST', `groups/${group.id}/action`, { body: { reset_status: { status: 'error' } }, version });
    await assertTempestSchema(groupReset, 'groups.reset_group_status');
    const missing = '2e0e0e0e-0000-4000-8000-000000000000';
    assertFault(await s.request('GET', `group_snapshots/${missing}`, { version }), 404, 'itemNotFound', `GroupSnapshot ${missing} could not be found.`);
    assertFault(
      await s.request('POST', 'group_snapshots', { body: { group_snapshot: { group_id: missing } }, version }),
      404,
      'itemNotFound',
      `Group ${missing} could not be found.`,
    );
  });
});
