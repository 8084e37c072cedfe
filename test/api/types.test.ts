import assert from 'node:assert/strict';
import { test } from 'node:test';
import { assertEmpty, assertFault, forEachDatabase, serviceOn } from './support.js';

forEachDatabase('volume types API', (db) => {
  test('type-create, list, show by id and "default", delete', async (t) => {
    const s = await serviceOn(t, db().name);
    // cinder type-create's body.
    const res = await s.request('POST', 'types', {
      body: { volume_type: { name: 'fast', description: 'ssd', 'os-volume-type-access:is_public': true } },
    });
    assert.equal(res.status, 200, res.text);
    const type = res.body.volume_type;
    assert.equal(type.name, 'fast');
    assert.equal(type.description, 'ssd');
    assert.equal(type.is_public, true);
    assert.equal(type['os-volume-type-access:is_public'], true);
    assert.deepEqual(type.extra_specs, {});

    const list = await s.request('GET', 'types');
    assert.deepEqual(list.body.volume_types.map((x: any) => x.name).sort(), ['__DEFAULT__', 'fast']);
    assert.equal((await s.request('GET', `types/${type.id}`)).body.volume_type.name, 'fast');
    assert.equal((await s.request('GET', 'types/default')).body.volume_type.name, '__DEFAULT__');

    assertEmpty(await s.request('DELETE', `types/${type.id}`), 202);
    assertFault(await s.request('GET', `types/${type.id}`), 404, 'itemNotFound', `Volume type ${type.id} could not be found.`);
  });

  test('extra specs: set, show, list, unset, filter types by them (3.52)', async (t) => {
    const s = await serviceOn(t, db().name);
    const type = (await s.request('POST', 'types', { body: { volume_type: { name: 'ma' } } })).body.volume_type;
    // cinder type-key ma set multiattach='<is> True'
    const set = await s.request('POST', `types/${type.id}/extra_specs`, { body: { extra_specs: { multiattach: '<is> True' } } });
    assert.equal(set.status, 200, set.text);
    assert.deepEqual(set.body, { extra_specs: { multiattach: '<is> True' } });
    assert.deepEqual((await s.request('GET', `types/${type.id}/extra_specs`)).body, { extra_specs: { multiattach: '<is> True' } });
    assert.deepEqual((await s.request('GET', `types/${type.id}/extra_specs/multiattach`)).body, { multiattach: '<is> True' });
    assert.deepEqual((await s.request('PUT', `types/${type.id}/extra_specs/x`, { body: { x: 'y' } })).body, { x: 'y' });
    assertFault(await s.request('PUT', `types/${type.id}/extra_specs/x`, { body: { z: 'y' } }), 400, 'badRequest', 'Request body and URI mismatch');

    const filter = encodeURIComponent("{'multiattach': '<is> True'}");
    const filtered = await s.request('GET', `types?extra_specs=${filter}`, { version: '3.52' });
    assert.deepEqual(filtered.body.volume_types.map((x: any) => x.name), ['ma']);

    assertEmpty(await s.request('DELETE', `types/${type.id}/extra_specs/x`), 202);
    assertFault(
      await s.request('GET', `types/${type.id}/extra_specs/x`),
      404,
      'itemNotFound',
      `Volume Type ${type.id} has no extra specs with key x.`,
    );
  });

  test('bad type bodies and unknown types', async (t) => {
    const s = await serviceOn(t, db().name);
    assertFault(
      await s.request('POST', 'types', { body: { volume_type: {} } }),
      400,
      'badRequest',
      "Invalid input for field/attribute volume_type. Value: {}. 'name' is a required property",
    );
    assertFault(
      await s.request('POST', 'types', { body: { volume_type: { name: 't', extra_specs: { k: 1 } } } }),
      400,
      'badRequest',
      "Invalid input for field/attribute k. Value: 1. 1 is not of type 'string'",
    );
    const missing = '0a6e6e54-3cd4-4d5b-95c1-d3cd63a6c9f2';
    assertFault(await s.request('GET', `types/${missing}`), 404, 'itemNotFound');
    assertFault(await s.request('POST', `types/${missing}/extra_specs`, { body: { extra_specs: { a: 'b' } } }), 404, 'itemNotFound');
    assertFault(await s.request('DELETE', `types/${missing}`), 404, 'itemNotFound');
    // The built-in type stays.
    const builtin = (await s.request('GET', 'types/default')).body.volume_type;
    assertFault(await s.request('DELETE', `types/${builtin.id}`), 400, 'badRequest', `The volume type ${builtin.id} is a default volume type and cannot be deleted.`);
  });
});
