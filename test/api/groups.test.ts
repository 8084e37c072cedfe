import assert from 'node:assert/strict';
import { test } from 'node:test';
import { assertTempestSchema, requireTempestSchemas } from '../helpers/tempest-schema.js';
import { createGroup, createGroupType, createGroupVolume, createVolumeType, GROUPS_VERSION, waitFor } from './group-support.js';
import { assertEmpty, assertFault, createVolume, forEachDatabase, serviceOn } from './support.js';

const version = GROUPS_VERSION;

forEachDatabase('groups API', (db) => {
  test('create, show, list, detail, a volume made in the group, delete with its volumes; tempest schemas', async (t) => {
    if (!requireTempestSchemas(t)) return;
    const s = await serviceOn(t, db().name);
    const volumeType = await createVolumeType(s);
    const groupType = await createGroupType(s);
    const created = await s.request('POST', 'groups', { body: { group: { name: ' g1 ', group_type: groupType.name, volume_types: [volumeType.name] } }, version });
    await assertTempestSchema(created, 'groups.create_group');
    const id = created.body.group.id;
    assert.equal(created.body.group.name, 'g1', 'Cinder strips the name');
    await waitFor(s, `groups/${id}`, 'group', ['available']);
    const volume = await createGroupVolume(s, id, volumeType.id);
    assert.equal(volume.group_id, id);

    const shown = await s.request('GET', `groups/${id}`, { version });
    await assertTempestSchema(shown, 'groups.show_group');
    assert.deepEqual({ ...shown.body.group, created_at: 'x' }, {
      id,
      status: 'available',
      availability_zone: 'nova',
      created_at: 'x',
      name: 'g1',
      description: null,
      group_type: groupType.id,
      volume_types: [volumeType.id],
      group_snapshot_id: null,
      source_group_id: null,
    });
    const withVolumes = await s.request('GET', `groups/${id}?list_volume=true`, { version: '3.58' });
    await assertTempestSchema({ ...withVolumes, body: { group: { ...withVolumes.body.group, project_id: undefined } } }, 'groups.show_group');
    assert.deepEqual(withVolumes.body.group.volumes, [volume.id]);
    assert.equal(withVolumes.body.group.replication_status, 'disabled');
    // Cinder adds project_id at 3.58, which tempest's schema (written for older versions) has not.
    assert.equal(withVolumes.body.group.project_id, s.projectId);

    const summary = await s.request('GET', 'groups', { version });
    await assertTempestSchema(summary, 'groups.list_groups_no_detail');
    assert.deepEqual(summary.body.groups, [{ id, name: 'g1' }]);
    const detail = await s.request('GET', 'groups/detail', { version });
    await assertTempestSchema(detail, 'groups.list_groups_with_detail');
    assert.deepEqual((await s.request('GET', 'groups/detail?name=other', { version })).body.groups, []);
    assert.deepEqual((await s.request('GET', 'groups?status=available', { version })).body.groups.length, 1);

    assertFault(
      await s.request('DELETE', `volumes/${volume.id}`),
      400,
      'badRequest',
      /must not be migrating, attached, belong to a group/,
    );
    assertFault(
      await s.request('POST', `groups/${id}/action`, { body: { delete: {} }, version }),
      400,
      'badRequest',
      `Invalid Group: Group ${id} still contains volumes. The delete-volumes flag is required to delete it.`,
    );
    const deleted = await s.request('POST', `groups/${id}/action`, { body: { delete: { 'delete-volumes': true } }, version });
    await assertTempestSchema(deleted, 'groups.delete_group');
    assertEmpty(deleted, 202);
    await waitFor(s, `groups/${id}`, 'group', ['deleted']);
    assert.equal((await s.request('GET', `volumes/${volume.id}`)).status, 404, 'the group took its volume with it');
    const quota = await s.request('GET', `os-quota-sets/${s.projectId}?usage=true`);
    assert.equal(quota.body.quota_set.groups.in_use, 0, 'the group gave its quota back');
  });

  test('update: name, description, removing and adding volumes; tempest schemas', async (t) => {
    if (!requireTempestSchemas(t)) return;
    const s = await serviceOn(t, db().name);
    const { group, volumeType } = await createGroup(s);
    const [v1, v2] = [await createGroupVolume(s, group.id, volumeType.id), await createGroupVolume(s, group.id, volumeType.id)];
    const removed = await s.request('PUT', `groups/${group.id}`, { body: { group: { name: 'new', description: 'desc', remove_volumes: v2.id } }, version });
    await assertTempestSchema(removed, 'groups.update_group');
    const members = async () => (await s.request('GET', `groups/${group.id}?list_volume=true`, { version: '3.25' })).body.group;
    assert.deepEqual((await members()).volumes, [v1.id]);
    assert.equal((await members()).name, 'new');
    assert.equal((await s.request('GET', `volumes/${v2.id}`, { version })).body.volume.group_id, null);
    assertEmpty(await s.request('PUT', `groups/${group.id}`, { body: { group: { add_volumes: `,${v2.id},` } }, version }), 202);
    assert.deepEqual((await members()).volumes.sort(), [v1.id, v2.id].sort());

    assertFault(
      await s.request('PUT', `groups/${group.id}`, { body: { group: { name: 'new' } }, version }),
      400,
      'badRequest',
      `Invalid Group: Cannot update group ${group.id} because no valid name, description, add_volumes, or remove_volumes were provided.`,
    );
    assertFault(
      await s.request('PUT', `groups/${group.id}`, { body: { group: { add_volumes: v1.id, remove_volumes: v1.id } }, version }),
      400,
      'badRequest',
      `Invalid volume: UUIDs ['${v1.id}'] are in both add and remove volume list.`,
    );
    const other = await createVolume(s);
    const otherType = (await s.request('GET', `volumes/${other.id}`, { version: '3.63' })).body.volume.volume_type_id;
    assertFault(
      await s.request('PUT', `groups/${group.id}`, { body: { group: { add_volumes: other.id } }, version }),
      400,
      'badRequest',
      `Invalid volume: Cannot add volume ${other.id} to group ${group.id} because volume type ${otherType} is not supported by the group.`,
    );
    assertFault(
      await s.request('PUT', `groups/${group.id}`, { body: { group: { remove_volumes: other.id } }, version }),
      400,
      'badRequest',
      `Invalid volume: Cannot remove volume ${other.id} from group ${group.id} because it is not in the group.`,
    );
    assertFault(await s.request('PUT', `groups/${group.id}`, { body: { group: {} }, version }), 400, 'badRequest');
  });

  test('a volume made in a group: its types only, while the group takes volumes', async (t) => {
    const s = await serviceOn(t, db().name);
    const { group } = await createGroup(s);
    const otherType = await createVolumeType(s);
    assertFault(
      await s.request('POST', 'volumes', { body: { volume: { size: 1, volume_type: otherType.id, group_id: group.id } }, version }),
      400,
      'badRequest',
      `Invalid input received: Invalid volume_type provided: ${otherType.name} (requested type must be supported by this group).`,
    );
    const missing = '0e0e0e0e-0000-4000-8000-000000000000';
    assertFault(
      await s.request('POST', 'volumes', { body: { volume: { size: 1, group_id: missing } }, version }),
      404,
      'itemNotFound',
      `Group ${missing} could not be found.`,
    );
    assertEmpty(await s.request('POST', `groups/${group.id}/action`, { body: { reset_status: { status: 'error' } }, version }), 202);
    const vt = (await s.request('GET', `groups/${group.id}`, { version })).body.group.volume_types[0];
    assertFault(
      await s.request('POST', 'volumes', { body: { volume: { size: 1, volume_type: vt, group_id: group.id } }, version }),
      400,
      'badRequest',
      "Invalid Group: Originating group status must be one of 'available, creating' values",
    );
  });

  test('a group from a source group: a clone of each volume, in the shape of tempest schemas', async (t) => {
    if (!requireTempestSchemas(t)) return;
    const s = await serviceOn(t, db().name);
    const { group, volumeType, groupType } = await createGroup(s);
    const volume = await createGroupVolume(s, group.id, volumeType.id);
    const created = await s.request('POST', 'groups/action', { body: { 'create-from-src': { source_group_id: group.id, name: 'copy' } }, version });
    await assertTempestSchema(created, 'groups.create_group_from_source');
    const copy = await waitFor(s, `groups/${created.body.group.id}`, 'group', ['available', 'error']);
    assert.equal(copy.status, 'available');
    assert.equal(copy.source_group_id, group.id);
    assert.equal(copy.group_type, groupType.id);
    const members = (await s.request('GET', `groups/${copy.id}?list_volume=1`, { version: '3.25' })).body.group.volumes;
    assert.equal(members.length, 1);
    const clone = (await s.request('GET', `volumes/${members[0]}`, { version })).body.volume;
    assert.equal(clone.source_volid, volume.id);
    assert.equal(clone.group_id, copy.id);
    assertEmpty(await s.request('POST', `groups/${copy.id}/action`, { body: { delete: { 'delete-volumes': true } }, version }), 202);
    await waitFor(s, `groups/${copy.id}`, 'group', ['deleted']);
    assert.equal((await s.request('GET', `volumes/${clone.id}`)).status, 404);
  });

  test("Cinder's refusals: versions, actions, reset_status values, empty sources, group quota", async (t) => {
    const s = await serviceOn(t, db().name);
    assertFault(await s.request('GET', 'groups', { version: '3.12' }), 404, 'itemNotFound', 'The resource could not be found.');
    const { group } = await createGroup(s);
    assertFault(await s.request('POST', `groups/${group.id}/action`, { body: { reset_status: { status: 'error' } }, version: '3.19' }), 404, 'itemNotFound');
    assertFault(
      await s.request('POST', `groups/${group.id}/action`, { body: { reset_status: { status: 'in-use' } }, version }),
      400,
      'badRequest',
      "Invalid Group Status: Group status: in-use is invalid, valid status are: ('error', 'available', 'creating', 'deleting', 'deleted', 'updating', 'in-use', 'error_deleting').",
    );
    assertFault(await s.request('POST', `groups/${group.id}/action`, { body: { frobnicate: {} }, version }), 400, 'badRequest', /There is no such action: frobnicate/);
    assertFault(
      await s.request('POST', 'groups/action', { body: { 'create-from-src': { source_group_id: group.id } }, version }),
      400,
      'badRequest',
      'Invalid Group: Source Group is empty. No group will be created.',
    );
    assertFault(await s.request('POST', 'groups/action', { body: { 'create-from-src': {} }, version }), 400, 'badRequest');
    const missing = '1e0e0e0e-0000-4000-8000-000000000000';
    assertFault(await s.request('GET', `groups/${missing}`, { version }), 404, 'itemNotFound', `Group ${missing} could not be found.`);
    const reset = await s.request('POST', `groups/${group.id}/action`, { body: { reset_status: { status: 'creating' } }, version });
    assertEmpty(reset, 202);
    assertFault(
      await s.request('POST', `groups/${group.id}/action`, { body: { delete: {} }, version }),
      400,
      'badRequest',
      'Invalid Group: Group status must be available or error, but current status is: creating',
    );
    assertFault(
      await s.request('POST', 'groups', { body: { group: { group_type: 'nope', volume_types: ['x'] } }, version }),
      404,
      'itemNotFound',
      'Volume type with name x could not be found.',
    );
  });

  test('the groups quota is counted and enforced', async (t) => {
    const s = await serviceOn(t, db().name);
    assert.equal((await s.request('PUT', `os-quota-sets/${s.projectId}`, { body: { quota_set: { groups: 1 } } })).status, 200);
    const { groupType, volumeType } = await createGroup(s);
    assertFault(
      await s.request('POST', 'groups', { body: { group: { group_type: groupType.id, volume_types: [volumeType.id] } }, version }),
      413,
      'overLimit',
      'Maximum number of groups allowed (1) exceeded',
    );
    const quota = await s.request('GET', `os-quota-sets/${s.projectId}?usage=true`);
    assert.equal(quota.body.quota_set.groups.in_use, 1);
  });
});
