import assert from 'node:assert/strict';
import { test } from 'node:test';
import { assertTempestSchema, requireTempestSchemas } from '../helpers/tempest-schema.js';
import { createGroupType, GROUPS_VERSION } from './group-support.js';
import { assertEmpty, assertFault, forEachDatabase, serviceOn } from './support.js';

const version = GROUPS_VERSION;

forEachDatabase('group types API', (db) => {
  test('create, list, show, update, delete, in the shapes of tempest schemas', async (t) => {
    if (!requireTempestSchemas(t)) return;
    const s = await serviceOn(t, db().name);
    const created = await s.request('POST', 'group_types', {
      body: { group_type: { name: 'gold', description: 'fast', is_public: true, group_specs: { consistent_group_snapshot_enabled: '<is> False' } } },
      version,
    });
    await assertTempestSchema(created, 'group_types.create_group_type');
    const id = created.body.group_type.id;
    assert.deepEqual(created.body.group_type, {
      id,
      name: 'gold',
      description: 'fast',
      is_public: true,
      group_specs: { consistent_group_snapshot_enabled: '<is> False' },
    });
    const list = await s.request('GET', 'group_types', { version });
    await assertTempestSchema(list, 'group_types.list_group_types');
    assert.deepEqual(list.body.group_types.map((g: any) => g.id), [id]);

    const updated = await s.request('PUT', `group_types/${id}`, { body: { group_type: { name: 'platinum', description: 'faster' } }, version });
    await assertTempestSchema(updated, 'group_types.update_group_type');
    assert.equal(updated.body.group_type.name, 'platinum');
    const shown = await s.request('GET', `group_types/${id}`, { version });
    await assertTempestSchema(shown, 'group_types.show_group_type');
    assert.equal(shown.body.group_type.description, 'faster');

    const deleted = await s.request('DELETE', `group_types/${id}`, { version });
    await assertTempestSchema(deleted, 'group_types.delete_group_type');
    assertEmpty(deleted, 202);
    assertFault(await s.request('GET', `group_types/${id}`, { version }), 404, 'itemNotFound', `Group type ${id} could not be found.`);
  });

  test('lists: public by default, is_public=None for both, sorted and paged', async (t) => {
    const s = await serviceOn(t, db().name);
    const a = await createGroupType(s, { name: 'a-type', is_public: true });
    const b = await createGroupType(s, { name: 'b-type', is_public: false });
    const names = async (query: string) => (await s.request('GET', `group_types${query}`, { version })).body.group_types.map((g: any) => g.name);
    assert.deepEqual(await names(''), ['a-type']);
    assert.deepEqual(await names('?is_public=False'), ['b-type']);
    assert.deepEqual(await names('?is_public=None&sort=name:asc'), ['a-type', 'b-type']);
    assert.deepEqual(await names('?is_public=None&sort=name:desc'), ['b-type', 'a-type']);
    const paged = await s.request('GET', `group_types?is_public=None&sort=name:asc&limit=1`, { version });
    assert.deepEqual(paged.body.group_types.map((g: any) => g.id), [a.id]);
    assert.match(paged.body.group_type_links[0].href, new RegExp(`marker=${a.id}`));
    assert.deepEqual(await names(`?is_public=None&sort=name:asc&marker=${a.id}`), ['b-type']);
    assert.equal(b.is_public, false);
    assertFault(await s.request('GET', 'group_types?is_public=maybe', { version }), 400, 'badRequest', 'Invalid is_public filter [maybe]');
  });

  test("Cinder's refusals: versions, duplicates, empty updates, the default type, a type in use", async (t) => {
    const s = await serviceOn(t, db().name);
    assertFault(await s.request('GET', 'group_types', { version: '3.10' }), 404, 'itemNotFound', 'The resource could not be found.');
    const type = await createGroupType(s, { name: 'dup' });
    assertFault(await s.request('POST', 'group_types', { body: { group_type: { name: 'dup' } }, version }), 409, 'conflictingRequest', 'Group Type dup already exists.');
    assertFault(
      await s.request('POST', 'group_types', { body: { group_type: { name: 'x', extra: 1 } }, version }),
      400,
      'badRequest',
      /Additional properties are not allowed \('extra' was unexpected\)/,
    );
    assertFault(
      await s.request('PUT', `group_types/${type.id}`, { body: { group_type: {} }, version }),
      400,
      'badRequest',
      'Specify group type name, description or a combination thereof.',
    );
    assertFault(await s.request('PUT', `group_types/${type.id}`, { body: { group_type: { name: '  ' } }, version }), 400, 'badRequest', 'Group type name can not be empty.');
    assertFault(await s.request('GET', 'group_types/default', { version }), 404, 'itemNotFound', 'Default group type can not be found.');
    const vt = await s.request('POST', 'types', { body: { volume_type: { name: 'vt' } } });
    const group = await s.request('POST', 'groups', { body: { group: { group_type: type.id, volume_types: [vt.body.volume_type.id] } }, version });
    assert.equal(group.status, 202, group.text);
    assertFault(await s.request('DELETE', `group_types/${type.id}`, { version }), 400, 'badRequest', 'Target group type is still in use.');
  });

  test('the default group type is the one default_group_type names, in the shape of tempest schemas', async (t) => {
    if (!requireTempestSchemas(t)) return;
    const s = await serviceOn(t, db().name, { defaultGroupType: 'gold' });
    assertFault(await s.request('GET', 'group_types/default', { version }), 404, 'itemNotFound', 'Default group type can not be found.');
    const gold = await createGroupType(s, { name: 'gold' });
    const shown = await s.request('GET', 'group_types/default', { version });
    await assertTempestSchema(shown, 'group_types.show_default_group_type');
    assert.equal(shown.body.group_type.id, gold.id);
  });

  test('group specs: create, show, update, list, delete, in the shapes of tempest schemas', async (t) => {
    if (!requireTempestSchemas(t)) return;
    const s = await serviceOn(t, db().name);
    const type = await createGroupType(s);
    const path = `group_types/${type.id}/group_specs`;
    const created = await s.request('POST', path, { body: { group_specs: { key1: 'value1', key2: 'value2' } }, version });
    await assertTempestSchema(created, 'group_types.create_or_update_group_type_specs');
    assert.deepEqual(created.body, { group_specs: { key1: 'value1', key2: 'value2' } });
    const again = await s.request('POST', path, { body: { group_specs: { key2: 'value2-updated', key3: 'value3' } }, version });
    assert.deepEqual(again.body, { group_specs: { key2: 'value2-updated', key3: 'value3' } }, 'the answer is what was sent');
    const item = await s.request('GET', `${path}/key2`, { version });
    await assertTempestSchema(item, 'group_types.show_group_type_specs_item');
    assert.deepEqual(item.body, { key2: 'value2-updated' });
    const put = await s.request('PUT', `${path}/key3`, { body: { key3: 'value3-updated' }, version });
    await assertTempestSchema(put, 'group_types.update_group_type_specs_item');
    const list = await s.request('GET', path, { version });
    await assertTempestSchema(list, 'group_types.list_group_type_specs');
    assert.deepEqual(list.body.group_specs, { key1: 'value1', key2: 'value2-updated', key3: 'value3-updated' });
    const deleted = await s.request('DELETE', `${path}/key1`, { version });
    await assertTempestSchema(deleted, 'group_types.delete_group_type_specs_item');
    assertFault(await s.request('GET', `${path}/key1`, { version }), 404, 'itemNotFound', `Group Type ${type.id} has no extra spec with key key1.`);
    assertFault(await s.request('DELETE', `${path}/key1`, { version }), 404, 'itemNotFound', `Group Type ${type.id} has no specs with key key1.`);
    assertFault(await s.request('PUT', `${path}/key2`, { body: { key3: 'v' }, version }), 400, 'badRequest', 'Request body and URI mismatch');
    assertFault(await s.request('PUT', `${path}/key2`, { body: { key2: 'v', key3: 'v' }, version }), 400, 'badRequest');
    const missing = '6f0bd2f5-0000-4000-8000-000000000000';
    assertFault(await s.request('GET', `group_types/${missing}/group_specs`, { version }), 404, 'itemNotFound', `Group type ${missing} could not be found.`);
  });
});
