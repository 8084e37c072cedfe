// Type update, type access, encryption and retype over HTTP, each answer held to tempest's
// schema for it and each refusal to Cinder's status and words.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { TestService } from '../helpers/service.js';
import { assertTempestSchema, requireTempestSchemas } from '../helpers/tempest-schema.js';
import { action, assertEmpty, assertFault, createVolume, forEachDatabase, serviceOn } from './support.js';

const OTHER_PROJECT = '9a8b7c6d5e4f40318293a4b5c6d7e8f9';
const MISSING = '0a6e6e54-3cd4-4d5b-95c1-d3cd63a6c9f2';
const LUKS = { provider: 'LuksEncryptor', key_size: 256, cipher: 'aes-xts-plain64', control_location: 'front-end' };

async function createType(s: TestService, volumeType: Record<string, unknown>): Promise<any> {
  const res = await s.request('POST', 'types', { body: { volume_type: volumeType } });
  assert.equal(res.status, 200, res.text);
  return res.body.volume_type;
}

async function quotaUsage(s: TestService): Promise<Record<string, { limit: number; in_use: number }>> {
  const res = await s.request('GET', `os-quota-sets/${s.projectId}?usage=True`);
  assert.equal(res.status, 200, res.text);
  return res.body.quota_set;
}

forEachDatabase('volume type management API', (db) => {
  test('type update: name, description and is_public, with the update view', async (t) => {
    if (!requireTempestSchemas(t)) return;
    const s = await serviceOn(t, db().name);
    const type = await createType(s, { name: 'silver', description: 'old' });
    const res = await s.request('PUT', `types/${type.id}`, { body: { volume_type: { name: 'gold', description: 'new', is_public: false } } });
    await assertTempestSchema(res, 'volume_types.update_volume_types');
    assert.deepEqual(res.body, { volume_type: { id: type.id, name: 'gold', is_public: false, extra_specs: {}, description: 'new' } });
    const shown = await s.request('GET', `types/${type.id}`);
    await assertTempestSchema(shown, 'volume_types.show_volume_type');
    assert.equal(shown.body.volume_type.name, 'gold');
    assert.equal(shown.body.volume_type['os-volume-type-access:is_public'], false);
    // A description alone; the name stays.
    const described = await s.request('PUT', `types/${type.id}`, { body: { volume_type: { description: '' } } });
    assert.deepEqual([described.body.volume_type.name, described.body.volume_type.description], ['gold', '']);
  });

  test('type update refusals: a taken name, an empty one, nothing to change, no such type', async (t) => {
    const s = await serviceOn(t, db().name);
    const type = await createType(s, { name: 'one' });
    await createType(s, { name: 'two' });
    assertFault(await s.request('PUT', `types/${type.id}`, { body: { volume_type: { name: 'two' } } }), 409, 'conflictingRequest', 'Volume Type two already exists.');
    assertFault(await s.request('PUT', `types/${type.id}`, { body: { volume_type: { name: '  ' } } }), 400, 'badRequest', 'Volume type name can not be empty.');
    assertFault(
      await s.request('PUT', `types/${type.id}`, { body: { volume_type: {} } }),
      400,
      'badRequest',
      'Specify volume type name, description, is_public or a combination thereof.',
    );
    assertFault(await s.request('PUT', `types/${type.id}`, { body: { volume_type: { is_public: 'maybe' } } }), 400, 'badRequest', /^Invalid input for field\/attribute is_public/);
    assertFault(await s.request('PUT', `types/${MISSING}`, { body: { volume_type: { name: 'x' } } }), 404, 'itemNotFound', `Volume type ${MISSING} could not be found.`);
    // Renaming to its own name is no conflict.
    assert.equal((await s.request('PUT', `types/${type.id}`, { body: { volume_type: { name: 'one' } } })).status, 200);
  });

  test("a renamed type's per-type quotas and usage follow it", async (t) => {
    const s = await serviceOn(t, db().name);
    const type = await createType(s, { name: 'bronze' });
    assert.equal((await s.request('PUT', `os-quota-sets/${s.projectId}`, { body: { quota_set: { volumes_bronze: 4 } } })).status, 200);
    await createVolume(s, { size: 1, volume_type: type.id });
    assert.equal((await s.request('PUT', `types/${type.id}`, { body: { volume_type: { name: 'copper' } } })).status, 200);
    const set = await quotaUsage(s);
    assert.deepEqual(set.volumes_copper, { limit: 4, in_use: 1, reserved: 0 });
    assert.equal(set.volumes_bronze, undefined);
  });

  test('type access: add, list, refuse a second add, remove; public types have no access list', async (t) => {
    if (!requireTempestSchemas(t)) return;
    const s = await serviceOn(t, db().name);
    const type = await createType(s, { name: 'private', 'os-volume-type-access:is_public': false });
    const add = await s.request('POST', `types/${type.id}/action`, { body: { addProjectAccess: { project: OTHER_PROJECT } } });
    assertEmpty(add, 202);
    await assertTempestSchema(add, 'volume_types.add_type_access');
    assertEmpty(await s.request('POST', `types/${type.id}/action`, { body: { addProjectAccess: { project: s.projectId } } }), 202);
    const list = await s.request('GET', `types/${type.id}/os-volume-type-access`);
    await assertTempestSchema(list, 'volume_types.list_type_access');
    assert.deepEqual(list.body, {
      volume_type_access: [
        { volume_type_id: type.id, project_id: OTHER_PROJECT },
        { volume_type_id: type.id, project_id: s.projectId },
      ],
    });
    assertFault(
      await s.request('POST', `types/${type.id}/action`, { body: { addProjectAccess: { project: OTHER_PROJECT } } }),
      409,
      'conflictingRequest',
      `Volume type access for ${type.id} / ${OTHER_PROJECT} combination already exists.`,
    );
    const remove = await s.request('POST', `types/${type.id}/action`, { body: { removeProjectAccess: { project: OTHER_PROJECT } } });
    assertEmpty(remove, 202);
    await assertTempestSchema(remove, 'volume_types.remove_type_access');
    assertFault(
      await s.request('POST', `types/${type.id}/action`, { body: { removeProjectAccess: { project: OTHER_PROJECT } } }),
      404,
      'itemNotFound',
      `Volume type access not found for ${type.id} / ${OTHER_PROJECT} combination.`,
    );

    const open = await createType(s, { name: 'open' });
    assertFault(
      await s.request('POST', `types/${open.id}/action`, { body: { addProjectAccess: { project: OTHER_PROJECT } } }),
      400,
      'badRequest',
      'Invalid volume type: Type access modification is not applicable to public volume type.',
    );
    assertFault(await s.request('GET', `types/${open.id}/os-volume-type-access`), 404, 'itemNotFound', 'Access list not available for public volume types.');
    assertFault(await s.request('POST', `types/${MISSING}/action`, { body: { addProjectAccess: { project: OTHER_PROJECT } } }), 404, 'itemNotFound');
    assertFault(
      await s.request('POST', `types/${type.id}/action`, { body: { addProjectAccess: { project: 'not-a-uuid' } } }),
      400,
      'badRequest',
      /^Invalid input for field\/attribute project/,
    );
    assertFault(await s.request('POST', `types/${type.id}/action`, { body: { nope: {} } }), 400, 'badRequest', /^There is no such action: nope/);
  });

  test("an administrator's type list: public ones by default, is_public=false and none as asked", async (t) => {
    if (!requireTempestSchemas(t)) return;
    const s = await serviceOn(t, db().name);
    await createType(s, { name: 'hidden', 'os-volume-type-access:is_public': false });
    const names = async (query: string) => {
      const res = await s.request('GET', `types${query}`);
      await assertTempestSchema(res, 'volume_types.list_volume_types');
      return res.body.volume_types.map((x: any) => x.name).sort();
    };
    assert.deepEqual(await names(''), ['__DEFAULT__']);
    assert.deepEqual(await names('?is_public=false'), ['hidden']);
    assert.deepEqual(await names('?is_public=None'), ['__DEFAULT__', 'hidden']);
    assertFault(await s.request('GET', 'types?is_public=perhaps'), 400, 'badRequest', 'Invalid is_public filter [perhaps]');
  });

  test('encryption: create, show, show one spec, update, delete, with the views Cinder answers', async (t) => {
    if (!requireTempestSchemas(t)) return;
    const s = await serviceOn(t, db().name);
    const type = await createType(s, { name: 'secret' });
    const empty = await s.request('GET', `types/${type.id}/encryption`);
    await assertTempestSchema(empty, 'encryption_types.show_encryption_type');
    assert.deepEqual(empty.body, {});

    const created = await s.request('POST', `types/${type.id}/encryption`, { body: { encryption: { ...LUKS, key_size: '256' } } });
    await assertTempestSchema(created, 'encryption_types.create_encryption_type');
    const encryptionId = created.body.encryption.encryption_id;
    assert.deepEqual(created.body, { encryption: { ...LUKS, volume_type_id: type.id, encryption_id: encryptionId } });

    const shown = await s.request('GET', `types/${type.id}/encryption`);
    await assertTempestSchema(shown, 'encryption_types.show_encryption_type');
    const { created_at: createdAt, ...rest } = shown.body;
    assert.match(createdAt, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}$/);
    assert.deepEqual(rest, { ...LUKS, volume_type_id: type.id, encryption_id: encryptionId, updated_at: null, deleted: false, deleted_at: null });

    const item = await s.request('GET', `types/${type.id}/encryption/cipher`);
    await assertTempestSchema(item, 'encryption_types.show_encryption_specs_item');
    assert.deepEqual(item.body, { cipher: 'aes-xts-plain64' });
    assertFault(await s.request('GET', `types/${type.id}/encryption/nope`), 404, 'itemNotFound', `Volume type encryption for type ${type.id} does not exist.`);

    const update = { key_size: 128, provider: 'SomeProvider', control_location: 'back-end' };
    const updated = await s.request('PUT', `types/${type.id}/encryption/${encryptionId}`, { body: { encryption: update } });
    await assertTempestSchema(updated, 'encryption_types.update_encryption_type');
    assert.deepEqual(updated.body, { encryption: update });
    const after = (await s.request('GET', `types/${type.id}/encryption`)).body;
    assert.deepEqual([after.key_size, after.provider, after.control_location, after.cipher], [128, 'SomeProvider', 'back-end', 'aes-xts-plain64']);
    assert.notEqual(after.updated_at, null);

    const deleted = await s.request('DELETE', `types/${type.id}/encryption/${encryptionId}`);
    await assertTempestSchema(deleted, 'encryption_types.delete_encryption_type');
    assertEmpty(deleted, 202);
    assert.deepEqual((await s.request('GET', `types/${type.id}/encryption`)).body, {});
    assertFault(await s.request('DELETE', `types/${type.id}/encryption/x`), 404, 'itemNotFound', `Volume type encryption for type ${type.id} does not exist.`);
    assertFault(await s.request('PUT', `types/${type.id}/encryption/x`, { body: { encryption: update } }), 404, 'itemNotFound');
  });

  test('encryption refusals: no such type, a second one, bad bodies, a type in use', async (t) => {
    const s = await serviceOn(t, db().name);
    assertFault(await s.request('POST', `types/${MISSING}/encryption`, { body: { encryption: LUKS } }), 404, 'itemNotFound', `Volume type ${MISSING} could not be found.`);
    assertFault(await s.request('GET', `types/${MISSING}/encryption`), 404, 'itemNotFound');
    const type = await createType(s, { name: 'enc' });
    assertFault(
      await s.request('POST', `types/${type.id}/encryption`, { body: { encryption: { provider: 'p' } } }),
      400,
      'badRequest',
      /'control_location' is a required property/,
    );
    assertFault(
      await s.request('POST', `types/${type.id}/encryption`, { body: { encryption: { ...LUKS, control_location: 'middle' } } }),
      400,
      'badRequest',
      /^Invalid input for field\/attribute control_location/,
    );
    assertFault(await s.request('POST', `types/${type.id}/encryption`, { body: { encryption: { ...LUKS, key_size: 'big' } } }), 400, 'badRequest', /key_size/);
    assert.equal((await s.request('POST', `types/${type.id}/encryption`, { body: { encryption: LUKS } })).status, 200);
    assertFault(
      await s.request('POST', `types/${type.id}/encryption`, { body: { encryption: LUKS } }),
      400,
      'badRequest',
      `Volume type encryption for type ${type.id} already exists.`,
    );

    // A volume of an encrypted type is encrypted, with the fixed key: no key id at 3.64.
    const volume = await createVolume(s, { volume_type: type.id }, '3.64');
    const shown = await s.request('GET', `volumes/${volume.id}`, { version: '3.64' });
    assert.equal(shown.body.volume.encrypted, true);
    assert.equal('encryption_key_id' in shown.body.volume, false);
    assert.equal((await createVolume(s)).encrypted, false);
    for (const [method, path, what] of [
      ['PUT', `types/${type.id}/encryption/x`, 'update'],
      ['DELETE', `types/${type.id}/encryption/x`, 'delete'],
    ] as const) {
      assertFault(await s.request(method, path, { body: { encryption: LUKS } }), 400, 'badRequest', `Cannot ${what} encryption specs. Volume type in use.`);
    }
    const used = await createType(s, { name: 'used' });
    await createVolume(s, { volume_type: used.id });
    assertFault(await s.request('POST', `types/${used.id}/encryption`, { body: { encryption: LUKS } }), 400, 'badRequest', 'Cannot create encryption specs. Volume type in use.');
  });

  test('retype without migration: the type changes, per-type usage moves with the volume and its snapshots', async (t) => {
    if (!requireTempestSchemas(t)) return;
    const s = await serviceOn(t, db().name);
    const [from, to] = [await createType(s, { name: 'from' }), await createType(s, { name: 'to' })];
    const volume = await createVolume(s, { size: 2, volume_type: from.id });
    const snap = await s.request('POST', 'snapshots', { body: { snapshot: { volume_id: volume.id } } });
    assert.equal(snap.status, 202, snap.text);
    const res = await action(s, volume.id, { 'os-retype': { new_type: 'to', migration_policy: 'never' } });
    assertEmpty(res, 202);
    const shown = await s.request('GET', `volumes/${volume.id}`);
    await assertTempestSchema(shown, 'volumes.show_volume');
    assert.equal(shown.body.volume.volume_type, 'to');
    assert.equal(shown.body.volume.status, 'available');
    assert.equal(shown.body.volume.migration_status, null);
    const set = await quotaUsage(s);
    assert.deepEqual(
      ['volumes_from', 'gigabytes_from', 'snapshots_from', 'volumes_to', 'gigabytes_to', 'snapshots_to'].map((r) => set[r]!.in_use),
      [0, 0, 0, 1, 4, 1],
    );
    // No migration_policy: a retype that needs no migration happens all the same.
    assertEmpty(await action(s, volume.id, { 'os-retype': { new_type: from.id } }), 202);
    assert.equal((await s.request('GET', `volumes/${volume.id}`)).body.volume.volume_type, 'from');
  });

  test('retype refusals: the same type, no such type, bad bodies, a per-type quota, an encryption change', async (t) => {
    const s = await serviceOn(t, db().name);
    const [from, to] = [await createType(s, { name: 'a' }), await createType(s, { name: 'b' })];
    const volume = await createVolume(s, { volume_type: from.id });
    assertFault(
      await action(s, volume.id, { 'os-retype': { new_type: 'a' } }),
      400,
      'badRequest',
      'Invalid volume: Retype needs volume to be in available or in-use state, not be part of an active migration or a consistency group, requested type has to be different that the one from the volume, and for in-use volumes front-end qos specs cannot change.',
    );
    assertFault(await action(s, volume.id, { 'os-retype': { new_type: 'nope' } }), 404, 'itemNotFound', 'Volume type with name nope could not be found.');
    assertFault(await action(s, MISSING, { 'os-retype': { new_type: 'b' } }), 404, 'itemNotFound', `Volume ${MISSING} could not be found.`);
    assertFault(await action(s, volume.id, { 'os-retype': {} }), 400, 'badRequest', /'new_type' is a required property/);
    assertFault(await action(s, volume.id, { 'os-retype': { new_type: 'b', migration_policy: 'always' } }), 400, 'badRequest', /migration_policy/);

    assert.equal((await s.request('PUT', `os-quota-sets/${s.projectId}`, { body: { quota_set: { volumes_b: 0 } } })).status, 200);
    assertFault(await action(s, volume.id, { 'os-retype': { new_type: 'b' } }), 413, 'overLimit', "Maximum number of volumes allowed (0) exceeded for quota 'volumes_b'.");
    assert.equal((await quotaUsage(s)).volumes_a!.in_use, 1);

    assert.equal((await s.request('POST', `types/${to.id}/encryption`, { body: { encryption: LUKS } })).status, 200);
    assertFault(await action(s, volume.id, { 'os-retype': { new_type: 'b', migration_policy: 'never' } }), 400, 'badRequest', 'Invalid volume: Retype requires migration but is not allowed.');
    assertFault(
      await action(s, volume.id, { 'os-retype': { new_type: 'b', migration_policy: 'on-demand' } }),
      400,
      'badRequest',
      'Invalid volume: Retype requires migration, and this service does not migrate volumes.',
    );
    assert.equal((await s.request('GET', `volumes/${volume.id}`)).body.volume.volume_type, 'a');
  });
});

forEachDatabase('default types API (3.62)', (db) => {
  const V = { version: '3.62' };

  test("set, show, list and unset a project's default type; volumes without a type get it", async (t) => {
    const s = await serviceOn(t, db().name);
    const type = await createType(s, { name: 'house' });
    assertFault(await s.request('GET', 'default-types', { version: '3.61' }), 404, 'itemNotFound');
    const set = await s.request('PUT', `default-types/${s.projectId}`, { ...V, body: { default_type: { volume_type: 'house' } } });
    assert.equal(set.status, 200, set.text);
    assert.deepEqual(set.body, { default_type: { project_id: s.projectId, volume_type_id: type.id } });
    assert.deepEqual((await s.request('GET', `default-types/${s.projectId}`, V)).body, set.body);
    assert.deepEqual((await s.request('GET', 'default-types', V)).body, { default_types: [set.body.default_type] });

    assert.equal((await createVolume(s)).volume_type, 'house');
    assert.equal((await s.request('GET', 'types/default')).body.volume_type.name, 'house');
    assertFault(await s.request('DELETE', `types/${type.id}`), 400, 'badRequest', `The volume type ${type.id} is a default volume type and cannot be deleted.`);

    const unset = await s.request('DELETE', `default-types/${s.projectId}`, V);
    assert.equal(unset.status, 204, unset.text);
    assertFault(await s.request('GET', `default-types/${s.projectId}`, V), 404, 'itemNotFound', `Default type for project ${s.projectId} not found.`);
    assert.equal((await createVolume(s)).volume_type, '__DEFAULT__');
    assert.deepEqual((await s.request('GET', 'default-types', V)).body, { default_types: [] });
  });

  test('a missing type is a bad request; a body without default_type is refused', async (t) => {
    const s = await serviceOn(t, db().name);
    assertFault(
      await s.request('PUT', `default-types/${s.projectId}`, { ...V, body: { default_type: { volume_type: 'nope' } } }),
      400,
      'badRequest',
      'Volume type with name nope could not be found.',
    );
    assertFault(await s.request('PUT', `default-types/${s.projectId}`, { ...V, body: {} }), 400, 'badRequest', /'default_type' is a required property/);
  });
});
