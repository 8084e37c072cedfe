import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { TestService } from '../helpers/service.js';
import { assertFault, CONNECTOR, createVolume, forEachDatabase, SERVER_ID, serviceOn } from './support.js';

const OTHER_SERVER = '0a6e6e54-3cd4-4d5b-95c1-d3cd63a6c9f2';

async function volumeOf(s: TestService, id: string) {
  return (await s.request('GET', `volumes/${id}`, { version: '3.48' })).body.volume;
}

function attach(s: TestService, body: Record<string, unknown>, version = '3.44') {
  return s.request('POST', 'attachments', { body: { attachment: body }, version });
}

forEachDatabase('attachments API', (db) => {
  test('create without a connector reserves; {} counts as none', async (t) => {
    const s = await serviceOn(t, db().name);
    const v = await createVolume(s);
    // cinderclient's attachment-create without --connect.
    const res = await attach(s, { volume_uuid: v.id, connector: {}, instance_uuid: SERVER_ID }, '3.27');
    assert.equal(res.status, 200, res.text);
    const a = res.body.attachment;
    assert.deepEqual(Object.keys(a).sort(), ['attach_mode', 'attached_at', 'connection_info', 'detached_at', 'id', 'instance', 'status', 'volume_id']);
    assert.equal(a.status, 'reserved');
    assert.equal(a.instance, SERVER_ID);
    assert.equal(a.volume_id, v.id);
    assert.equal(a.attached_at, '');
    assert.equal(a.detached_at, '');
    assert.equal(a.attach_mode, 'null');
    assert.deepEqual(a.connection_info, {});
    assert.equal((await volumeOf(s, v.id)).status, 'reserved');
    // Not attached yet, so the volume view lists nothing.
    assert.deepEqual((await volumeOf(s, v.id)).attachments, []);
  });

  test('the Nova flow: create (reserve), update with connector, complete, delete', async (t) => {
    const s = await serviceOn(t, db().name);
    const v = await createVolume(s);
    const created = await attach(s, { volume_uuid: v.id, connector: null, instance_uuid: SERVER_ID });
    assert.equal(created.status, 200, created.text);
    const id = created.body.attachment.id;

    const updated = await s.request('PUT', `attachments/${id}`, { body: { attachment: { connector: CONNECTOR } }, version: '3.44' });
    assert.equal(updated.status, 200, updated.text);
    const info = updated.body.attachment.connection_info;
    // Flat, unlike the legacy action's {driver_volume_type, data}.
    assert.equal(info.driver_volume_type, 'iscsi');
    assert.equal(info.attachment_id, id);
    assert.equal(info.volume_id, v.id);
    for (const key of ['target_portal', 'target_iqn', 'target_lun', 'auth_method', 'auth_username', 'auth_password']) {
      assert.ok(key in info, key);
    }
    // Cinder's answer is its reservation plus the connection info; the next read shows the host's update.
    assert.equal(updated.body.attachment.status, 'reserved');
    assert.equal(updated.body.attachment.attached_at, '');
    assert.equal(updated.body.attachment.attach_mode, 'null');
    const reread = (await s.request('GET', `attachments/${id}`, { version: '3.44' })).body.attachment;
    assert.equal(reread.status, 'attaching');
    assert.match(reread.attached_at, /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{6}$/);
    assert.equal(reread.attach_mode, 'rw');
    assert.deepEqual(reread.connection_info, info);
    assert.equal((await volumeOf(s, v.id)).status, 'attaching');

    assert.equal((await s.request('POST', `attachments/${id}/action`, { body: { 'os-complete': null }, version: '3.43' })).status, 404);
    const complete = await s.request('POST', `attachments/${id}/action`, { body: { 'os-complete': null }, version: '3.44' });
    assert.equal(complete.status, 204);
    assert.equal(complete.text, '');
    const inUse = await volumeOf(s, v.id);
    assert.equal(inUse.status, 'in-use');
    assert.equal(inUse.attachments.length, 1);
    assert.equal(inUse.attachments[0].attachment_id, id);
    assert.equal(inUse.attachments[0].host_name, CONNECTOR.host);
    assert.equal(inUse.attachments[0].device, CONNECTOR.mountpoint);

    const shown = await s.request('GET', `attachments/${id}`, { version: '3.27' });
    assert.equal(shown.body.attachment.status, 'attached');
    assert.deepEqual(shown.body.attachment.connection_info, info);

    const deleted = await s.request('DELETE', `attachments/${id}`, { version: '3.44', headers: { 'X-Service-Token': 'svc' } });
    assert.equal(deleted.status, 200, deleted.text);
    assert.deepEqual(deleted.body, { attachments: [] });
    assert.equal((await volumeOf(s, v.id)).status, 'available');
    assertFault(
      await s.request('DELETE', `attachments/${id}`, { version: '3.44' }),
      404,
      'itemNotFound',
      `Volume attachment could not be found with filter: attachment_id = ${id}.`,
    );
  });

  test('create with a connector goes straight to attaching and returns connection_info', async (t) => {
    const s = await serviceOn(t, db().name);
    const v = await createVolume(s);
    const res = await attach(s, { volume_uuid: v.id, connector: CONNECTOR, instance_uuid: SERVER_ID, mode: 'rw' }, '3.54');
    assert.equal(res.status, 200, res.text);
    assert.equal(res.body.attachment.connection_info.driver_volume_type, 'iscsi');
    assert.equal(res.body.attachment.attach_mode, 'rw');
    // "reserved" until os-complete, as cinderclient shows it after attachment-create --connect.
    assert.equal(res.body.attachment.status, 'reserved');
    assert.equal(res.body.attachment.attached_at, '');
    assert.equal((await volumeOf(s, v.id)).status, 'attaching');
    const noMode = await attach(s, { volume_uuid: (await createVolume(s)).id, connector: CONNECTOR, instance_uuid: SERVER_ID }, '3.54');
    assert.equal(noMode.body.attachment.attach_mode, 'null');
    const shown = await s.request('GET', `attachments/${res.body.attachment.id}`, { version: '3.54' });
    assert.equal(shown.body.attachment.status, 'attaching');
    assert.deepEqual(shown.body.attachment.connection_info, res.body.attachment.connection_info);
  });

  test('mode is accepted from 3.54 only, and must be rw or ro', async (t) => {
    const s = await serviceOn(t, db().name);
    const v = await createVolume(s);
    assertFault(
      await attach(s, { volume_uuid: v.id, instance_uuid: SERVER_ID, mode: 'ro' }, '3.53'),
      400,
      'badRequest',
      /Additional properties are not allowed \('mode' was unexpected\)$/,
    );
    assertFault(
      await attach(s, { volume_uuid: v.id, instance_uuid: SERVER_ID, mode: 'xx' }, '3.54'),
      400,
      'badRequest',
      "Invalid input for field/attribute mode. Value: xx. 'xx' is not one of ['rw', 'ro']",
    );
    const ro = await attach(s, { volume_uuid: v.id, instance_uuid: SERVER_ID, mode: 'ro' }, '3.54');
    assert.equal(ro.status, 200, ro.text);
    assert.equal(ro.body.attachment.attach_mode, 'ro');
  });

  test('bad bodies, unknown ids, wrong states', async (t) => {
    const s = await serviceOn(t, db().name);
    const v = await createVolume(s);
    assertFault(
      await attach(s, { instance_uuid: SERVER_ID }),
      400,
      'badRequest',
      `Invalid input for field/attribute attachment. Value: {'instance_uuid': '${SERVER_ID}'}. 'volume_uuid' is a required property`,
    );
    assertFault(
      await attach(s, { volume_uuid: 'nope' }),
      400,
      'badRequest',
      "Invalid input for field/attribute volume_uuid. Value: nope. 'nope' is not a 'uuid'",
    );
    assertFault(await attach(s, { volume_uuid: OTHER_SERVER }), 404, 'itemNotFound', `Volume ${OTHER_SERVER} could not be found.`);
    assertFault(await s.request('GET', `attachments/${OTHER_SERVER}`, { version: '3.27' }), 404, 'itemNotFound');
    assertFault(
      await s.request('PUT', `attachments/${OTHER_SERVER}`, { body: { attachment: { connector: CONNECTOR } }, version: '3.27' }),
      404,
      'itemNotFound',
    );
    assertFault(
      await s.request('POST', `attachments/${OTHER_SERVER}/action`, { body: { 'os-complete': null }, version: '3.44' }),
      404,
      'itemNotFound',
    );

    const first = await attach(s, { volume_uuid: v.id, instance_uuid: SERVER_ID });
    assert.equal(first.status, 200);
    assertFault(
      await s.request('PUT', `attachments/${first.body.attachment.id}`, { body: { attachment: { connector: {} } }, version: '3.44' }),
      400,
      'badRequest',
      'Invalid input for field/attribute connector. Value: {}. {} does not have enough properties',
    );
    assertFault(
      await s.request('POST', `attachments/${first.body.attachment.id}/action`, { body: { 'os-bogus': null }, version: '3.44' }),
      400,
      'badRequest',
      'There is no such action: os-bogus. Verify the request body and Content-Type header and try again.',
    );
    // A second server cannot reserve a volume that is not multiattach.
    assertFault(
      await attach(s, { volume_uuid: v.id, instance_uuid: OTHER_SERVER }),
      400,
      'badRequest',
      `Invalid volume: Volume ${v.id} status must be available or downloading to reserve, but the current status is reserved.`,
    );
    // The same server may (migration), as in Cinder.
    assert.equal((await attach(s, { volume_uuid: v.id, instance_uuid: SERVER_ID })).status, 200);
    await s.request('POST', `volumes/${v.id}/action`, { body: { 'os-reset_status': { status: 'error' } } });
    assertFault(
      await attach(s, { volume_uuid: v.id, instance_uuid: SERVER_ID }),
      400,
      'badRequest',
      /^Invalid volume: Volume attachments can not be created if the volume is in an error state\./,
    );
  });

  test('delete returns the remaining attachments; lists and filters', async (t) => {
    const s = await serviceOn(t, db().name);
    const type = await s.request('POST', 'types', { body: { volume_type: { name: 'shared' } } });
    await s.request('POST', `types/${type.body.volume_type.id}/extra_specs`, { body: { extra_specs: { multiattach: '<is> True' } } });
    const v = await createVolume(s, { volume_type: 'shared' });
    const other = await createVolume(s);
    const a1 = (await attach(s, { volume_uuid: v.id, instance_uuid: SERVER_ID, connector: CONNECTOR })).body.attachment;
    // A multiattach volume takes a second reservation once in use, not while attaching.
    assert.equal((await s.request('POST', `attachments/${a1.id}/action`, { body: { 'os-complete': null }, version: '3.44' })).status, 204);
    const a2 = (await attach(s, { volume_uuid: v.id, instance_uuid: OTHER_SERVER })).body.attachment;
    const a3 = (await attach(s, { volume_uuid: other.id, instance_uuid: SERVER_ID })).body.attachment;

    const list = await s.request('GET', 'attachments', { version: '3.27' });
    assert.equal(list.status, 200);
    assert.deepEqual(new Set(list.body.attachments.map((a: any) => a.id)), new Set([a1.id, a2.id, a3.id]));
    assert.deepEqual(Object.keys(list.body.attachments[0]).sort(), ['id', 'instance', 'status', 'volume_id']);
    const detail = await s.request('GET', 'attachments/detail', { version: '3.27' });
    assert.ok('connection_info' in detail.body.attachments[0]);
    const byVolume = await s.request('GET', `attachments?volume_id=${v.id}`, { version: '3.27' });
    assert.deepEqual(new Set(byVolume.body.attachments.map((a: any) => a.id)), new Set([a1.id, a2.id]));
    const byInstance = await s.request('GET', `attachments?instance_id=${OTHER_SERVER}`, { version: '3.27' });
    assert.deepEqual(byInstance.body.attachments.map((a: any) => a.id), [a2.id]);
    const limited = await s.request('GET', 'attachments?limit=1', { version: '3.27' });
    assert.equal(limited.body.attachments.length, 1);

    const remaining = await s.request('DELETE', `attachments/${a1.id}`, { version: '3.27', headers: { 'X-Service-Token': 'svc' } });
    assert.equal(remaining.status, 200, remaining.text);
    assert.deepEqual(remaining.body, { attachments: [{ id: a2.id, status: 'reserved', instance: OTHER_SERVER, volume_id: v.id }] });
  });

  test('deleting an attachment a server uses needs a service token', async (t) => {
    const s = await serviceOn(t, db().name);
    const v = await createVolume(s);
    const a = (await attach(s, { volume_uuid: v.id, instance_uuid: SERVER_ID, connector: CONNECTOR })).body.attachment;
    assertFault(
      await s.request('DELETE', `attachments/${a.id}`, { version: '3.44' }),
      409,
      'conflictingRequest',
      `ConflictNovaUsingAttachment: Detach volume from instance ${SERVER_ID} using the Compute API`,
    );
    const ok = await s.request('DELETE', `attachments/${a.id}`, { version: '3.44', headers: { 'X-Service-Token': 'svc' } });
    assert.equal(ok.status, 200, ok.text);
  });

  test('a deployment that trusts its noauth callers lets them delete in-use attachments', async (t) => {
    const s = await serviceOn(t, db().name, { noauthTrustsCallers: true });
    const v = await createVolume(s);
    const a = (await attach(s, { volume_uuid: v.id, instance_uuid: SERVER_ID, connector: CONNECTOR })).body.attachment;
    assert.equal((await s.request('DELETE', `attachments/${a.id}`, { version: '3.44' })).status, 200);
  });
});
