import assert from 'node:assert/strict';
import { test } from 'node:test';
import { action, assertFault, createVolume, forEachDatabase, serviceOn } from './support.js';

forEachDatabase('create from a source volume', (db) => {
  test("a clone takes its source's size and type unless told otherwise; Cinder's refusals", async (t) => {
    const s = await serviceOn(t, db().name);
    const type = (await s.request('POST', 'types', { body: { volume_type: { name: 'gold' } } })).body.volume_type;
    const source = await createVolume(s, { size: 2, volume_type: 'gold' });
    await s.waitForVolume(source.id, ['available']);

    const clone = await s.request('POST', 'volumes', { body: { volume: { source_volid: source.id } } });
    assert.equal(clone.status, 202, clone.text);
    assert.equal(clone.body.volume.size, 2);
    assert.equal(clone.body.volume.volume_type, 'gold');
    assert.equal(clone.body.volume.source_volid, source.id);
    const done = await s.waitForVolume(clone.body.volume.id, ['available', 'error']);
    assert.equal(done.status, 'available');
    assert.equal(done['os-vol-host-attr:host'], (await s.request('GET', `volumes/${source.id}`)).body.volume['os-vol-host-attr:host']);

    assertFault(
      await s.request('POST', 'volumes', { body: { volume: { source_volid: source.id, size: 1 } } }),
      400,
      'badRequest',
      "Invalid input received: Volume size '1'GB cannot be smaller than original volume size  2GB. They must be >= original volume size.",
    );
    assertFault(
      await s.request('POST', 'volumes', { body: { volume: { source_volid: source.id, volume_type: '__DEFAULT__' } } }),
      400,
      'badRequest',
      'Invalid input received: Invalid volume_type provided: __DEFAULT__ (requested type is not compatible; either match source volume, or omit type argument).',
    );
    assert.equal((await s.request('POST', 'volumes', { body: { volume: { source_volid: source.id, volume_type: type.id } } })).status, 202);
    const missing = '0b7c7f5e-5d2b-4a4e-9a51-8f8a4e0c2a11';
    assertFault(await s.request('POST', 'volumes', { body: { volume: { source_volid: missing, size: 1 } } }), 404, 'itemNotFound', `Volume ${missing} could not be found.`);

    assert.equal((await action(s, source.id, { 'os-reset_status': { status: 'error' } })).status, 202);
    assertFault(
      await s.request('POST', 'volumes', { body: { volume: { source_volid: source.id } } }),
      400,
      'badRequest',
      "Invalid volume: Originating source volume status must be one of 'available, in-use' values",
    );
  });
});
