import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { TestService } from '../helpers/service.js';
import { action, assertEmpty, assertFault, CONNECTOR, createVolume, forEachDatabase, SERVER_ID, serviceOn } from './support.js';

async function status(s: TestService, id: string): Promise<string> {
  return (await s.request('GET', `volumes/${id}`)).body.volume.status;
}

forEachDatabase('legacy volume actions', (db) => {
  test('the six-call attach and detach flow, as Nova-era callers send it at 3.0', async (t) => {
    const s = await serviceOn(t, db().name);
    const v = await createVolume(s);
    assertEmpty(await action(s, v.id, { 'os-reserve': null }), 202);
    assert.equal(await status(s, v.id), 'attaching');

    const init = await action(s, v.id, { 'os-initialize_connection': { connector: CONNECTOR } });
    assert.equal(init.status, 200, init.text);
    const info = init.body.connection_info;
    assert.equal(info.driver_volume_type, 'iscsi');
    for (const key of ['target_portal', 'target_iqn', 'target_lun', 'auth_method', 'auth_username', 'auth_password', 'access_mode']) {
      assert.ok(key in info.data, `connection_info.data.${key}`);
    }
    assert.equal(info.data.volume_id, v.id);
    assert.equal(info.data.auth_method, 'CHAP');

    // A retry returns the same export and credentials.
    const again = await action(s, v.id, { 'os-initialize_connection': { connector: CONNECTOR } });
    assert.deepEqual(again.body, init.body);

    assertEmpty(await action(s, v.id, { 'os-attach': { mountpoint: '/dev/vdb', mode: 'rw', instance_uuid: SERVER_ID } }), 202);
    const attached = (await s.request('GET', `volumes/${v.id}`, { version: '3.48' })).body.volume;
    assert.equal(attached.status, 'in-use');
    assert.equal(attached.attachments.length, 1);
    const [entry] = attached.attachments;
    assert.equal(entry.id, v.id);
    assert.equal(entry.volume_id, v.id);
    assert.equal(entry.server_id, SERVER_ID);
    assert.equal(entry.device, '/dev/vdb');
    assert.match(entry.attached_at, /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{6}$/);
    assert.deepEqual(Object.keys(entry).sort(), ['attached_at', 'attachment_id', 'device', 'host_name', 'id', 'server_id', 'volume_id']);
    assert.equal(attached.metadata.attached_mode, 'rw');

    assertEmpty(await action(s, v.id, { 'os-begin_detaching': null }), 202);
    assert.equal(await status(s, v.id), 'detaching');
    assertEmpty(await action(s, v.id, { 'os-terminate_connection': { connector: CONNECTOR } }), 202);
    assertEmpty(await action(s, v.id, { 'os-detach': { attachment_id: entry.attachment_id } }), 202);
    const detached = (await s.request('GET', `volumes/${v.id}`)).body.volume;
    assert.equal(detached.status, 'available');
    assert.deepEqual(detached.attachments, []);
  });

  test('undo actions: unreserve and roll_detaching, silent where Cinder is silent', async (t) => {
    const s = await serviceOn(t, db().name);
    const v = await createVolume(s);
    assertEmpty(await action(s, v.id, { 'os-unreserve': null }), 202);
    assertEmpty(await action(s, v.id, { 'os-roll_detaching': null }), 202);
    assert.equal(await status(s, v.id), 'available');
    await action(s, v.id, { 'os-reserve': null });
    assertEmpty(await action(s, v.id, { 'os-unreserve': null }), 202);
    assert.equal(await status(s, v.id), 'available');
    await action(s, v.id, { 'os-attach': { mountpoint: '/dev/vdb', instance_uuid: SERVER_ID } });
    await action(s, v.id, { 'os-begin_detaching': null });
    assertEmpty(await action(s, v.id, { 'os-roll_detaching': null }), 202);
    assert.equal(await status(s, v.id), 'in-use');
  });

  test('wrong states are 400 with the state named', async (t) => {
    const s = await serviceOn(t, db().name);
    const v = await createVolume(s);
    assertFault(
      await action(s, v.id, { 'os-begin_detaching': null }),
      400,
      'badRequest',
      "Invalid volume: Unable to detach volume. Volume status must be 'in-use' and attach_status must be 'attached' to detach.",
    );
    await action(s, v.id, { 'os-reserve': null });
    assertFault(
      await action(s, v.id, { 'os-reserve': null }),
      400,
      'badRequest',
      'Invalid volume: Volume status must be available to reserve, but the status is attaching.',
    );
    assertFault(
      await action(s, v.id, { 'os-update_readonly_flag': { readonly: true } }),
      400,
      'badRequest',
      `Invalid volume: Volume ${v.id} status must be available to update readonly flag, but current status is: attaching.`,
    );
    assertFault(
      await action(s, v.id, { 'os-extend': { new_size: 2 } }),
      400,
      'badRequest',
      /^Invalid volume: Volume .* status must be '\{'status': 'available'\}' to extend, currently attaching\.$/,
    );
  });

  test('unknown actions, malformed bodies and unknown volumes', async (t) => {
    const s = await serviceOn(t, db().name);
    const v = await createVolume(s);
    assertFault(
      await action(s, v.id, { 'os-bogus': null }),
      400,
      'badRequest',
      'There is no such action: os-bogus. Verify the request body and Content-Type header and try again.',
    );
    assertFault(await action(s, v.id, { 'os-reserve': null, 'os-unreserve': null }), 400, 'badRequest', 'Malformed request body');
    assertFault(await action(s, v.id, {}), 400, 'badRequest', 'Malformed request body');
    assertFault(await s.request('POST', `volumes/${v.id}/action`), 400, 'badRequest', 'Malformed request body');
    const missing = '0a6e6e54-3cd4-4d5b-95c1-d3cd63a6c9f2';
    const connector = { initiator: 'iqn.1994-05.com.redhat:missing', host: 'h' };
    for (const body of [
      { 'os-reserve': null },
      { 'os-initialize_connection': { connector } },
      { 'os-attach': { instance_uuid: missing, mountpoint: '/dev/vdb', mode: 'rw' } },
      { 'os-begin_detaching': null },
      { 'os-terminate_connection': { connector } },
      { 'os-detach': {} },
    ]) {
      assertFault(await action(s, missing, body), 404, 'itemNotFound', `Volume ${missing} could not be found.`);
    }
    // reimage exists from 3.68 only; there is no image store behind this service.
    assertFault(await action(s, v.id, { 'os-reimage': { image_id: missing } }, '3.67'), 404, 'itemNotFound', 'The resource could not be found.');
    assertFault(await action(s, v.id, { 'os-reimage': { image_id: missing } }, '3.68'), 404, 'itemNotFound', `Image ${missing} could not be found.`);
  });

  test('action bodies are validated with Cinder-style messages', async (t) => {
    const s = await serviceOn(t, db().name);
    const v = await createVolume(s);
    assertFault(
      await action(s, v.id, { 'os-initialize_connection': {} }),
      400,
      'badRequest',
      "Invalid input for field/attribute os-initialize_connection. Value: {}. 'connector' is a required property",
    );
    assertFault(
      await action(s, v.id, { 'os-initialize_connection': { connector: { ip: '10.0.0.1', host: 'h' } } }),
      400,
      'badRequest',
      "Invalid input received: Connector doesn't have required information: initiator",
    );
    assertFault(
      await action(s, v.id, { 'os-extend': { new_size: 0 } }),
      400,
      'badRequest',
      'Invalid input for field/attribute new_size. Value: 0. 0 is less than the minimum of 1',
    );
    assertFault(
      await action(s, v.id, { 'os-extend': { new_size: 1 } }),
      400,
      'badRequest',
      'Invalid input received: New size for extend must be greater than current size. (current: 1, extended: 1).',
    );
    assertFault(
      await action(s, v.id, { 'os-attach': { mountpoint: '/dev/vdb' } }),
      400,
      'badRequest',
      "Invalid input for field/attribute os-attach. Value: {'mountpoint': '/dev/vdb'}. {'mountpoint': '/dev/vdb'} is not valid under any of the given schemas",
    );
    assertFault(
      await action(s, v.id, { 'os-attach': { mountpoint: '/dev/vdb', instance_uuid: SERVER_ID, mode: 'xx' } }),
      400,
      'badRequest',
      "Invalid input for field/attribute mode. Value: xx. 'xx' is not one of ['rw', 'ro']",
    );
    assertFault(
      await action(s, v.id, { 'os-detach': { attachment_id: 'notauuid' } }),
      400,
      'badRequest',
      "Invalid input for field/attribute attachment_id. Value: notauuid. 'notauuid' is not valid under any of the given schemas",
    );
    assertFault(
      await action(s, v.id, { 'os-set_bootable': { bootable: 'perhaps' } }),
      400,
      'badRequest',
      /^Invalid input for field\/attribute bootable\. Value: perhaps\. 'perhaps' is not one of \[True, 'True'/,
    );
    assertFault(await action(s, v.id, { 'os-terminate_connection': {} }), 400, 'badRequest', /'connector' is a required property/);
  });

  test('extend, bootable and the read-only flag', async (t) => {
    const s = await serviceOn(t, db().name);
    const v = await createVolume(s);
    assertEmpty(await action(s, v.id, { 'os-extend': { new_size: '2' } }), 202);
    const grown = await s.waitForVolume(v.id, ['available']);
    assert.equal(grown.size, 2);

    assertEmpty(await action(s, v.id, { 'os-set_bootable': { bootable: 'true' } }), 200);
    assert.equal((await s.request('GET', `volumes/${v.id}`)).body.volume.bootable, 'true');
    const bootable = await s.request('GET', 'volumes?bootable=true');
    assert.deepEqual(bootable.body.volumes.map((x: any) => x.id), [v.id]);

    assertEmpty(await action(s, v.id, { 'os-update_readonly_flag': { readonly: true } }), 202);
    assert.deepEqual((await s.request('GET', `volumes/${v.id}`)).body.volume.metadata, { readonly: 'True' });
    // A read-only volume attaches read-only or not at all.
    assertFault(
      await action(s, v.id, { 'os-attach': { mountpoint: '/dev/vdb', instance_uuid: SERVER_ID, mode: 'rw' } }),
      400,
      'badRequest',
      `Invalid attaching mode 'rw' for volume ${v.id}.`,
    );
    assertEmpty(await action(s, v.id, { 'os-attach': { mountpoint: '/dev/vdb', instance_uuid: SERVER_ID, mode: 'ro' } }), 202);

    // From 3.42 an attached volume may grow.
    assertFault(await action(s, v.id, { 'os-extend': { new_size: 3 } }, '3.41'), 400, 'badRequest', /status must be/);
    assertEmpty(await action(s, v.id, { 'os-extend': { new_size: 3 } }, '3.42'), 202);
    const attachedGrown = await s.waitForVolume(v.id, ['in-use']);
    assert.equal(attachedGrown.size, 3);
  });

  test('reset_status and force_detach, the administrator\'s undo', async (t) => {
    const s = await serviceOn(t, db().name);
    const v = await createVolume(s);
    assertFault(
      await action(s, v.id, { 'os-reset_status': {} }),
      400,
      'badRequest',
      "Must specify 'status', 'attach_status' or 'migration_status' for update.",
    );
    assertFault(await action(s, v.id, { 'os-reset_status': { status: 'bogus' } }), 400, 'badRequest', /^Volume status: bogus is invalid/);
    assertFault(await action(s, v.id, { 'os-reset_status': { status: 'deleting' } }), 400, 'badRequest', 'Cannot reset-state to deleting');
    assertEmpty(await action(s, v.id, { 'os-reset_status': { status: 'error' } }), 202);
    assert.equal(await status(s, v.id), 'error');
    assertEmpty(await action(s, v.id, { 'os-reset_status': { status: 'available' } }), 202);

    await action(s, v.id, { 'os-reserve': null });
    await action(s, v.id, { 'os-initialize_connection': { connector: CONNECTOR } });
    await action(s, v.id, { 'os-attach': { mountpoint: '/dev/vdb', instance_uuid: SERVER_ID } });
    const attachmentId = (await s.request('GET', `volumes/${v.id}`)).body.volume.attachments[0].attachment_id;
    assertEmpty(await action(s, v.id, { 'os-force_detach': { connector: CONNECTOR, attachment_id: attachmentId } }), 202);
    assert.equal(await status(s, v.id), 'available');
  });

  test('multiattach comes from the volume type, and a second attach needs it', async (t) => {
    const s = await serviceOn(t, db().name);
    const type = await s.request('POST', 'types', { body: { volume_type: { name: 'ma' } } });
    assert.equal(type.status, 200, type.text);
    await s.request('POST', `types/${type.body.volume_type.id}/extra_specs`, { body: { extra_specs: { multiattach: '<is> True' } } });
    const ma = await createVolume(s, { volume_type: 'ma' });
    assert.equal(ma.multiattach, true);
    assert.equal(ma.volume_type, 'ma');
    await action(s, ma.id, { 'os-attach': { mountpoint: '/dev/vdb', instance_uuid: SERVER_ID } });
    assertEmpty(await action(s, ma.id, { 'os-reserve': null }), 202);
    assertEmpty(
      await action(s, ma.id, { 'os-attach': { mountpoint: '/dev/vdc', instance_uuid: '0a6e6e54-3cd4-4d5b-95c1-d3cd63a6c9f2' } }),
      202,
    );
    const both = (await s.request('GET', `volumes/${ma.id}`)).body.volume;
    assert.equal(both.attachments.length, 2);
    assertFault(
      await action(s, ma.id, { 'os-detach': null }),
      400,
      'badRequest',
      'Invalid volume: Detach volume failed: More than one attachment, but no attachment_id provided.',
    );

    const single = await createVolume(s);
    await action(s, single.id, { 'os-attach': { mountpoint: '/dev/vdb', instance_uuid: SERVER_ID } });
    assertFault(
      await action(s, single.id, { 'os-reserve': null }),
      400,
      'badRequest',
      'Invalid volume: Volume status must be available to reserve, but the status is in-use.',
    );
  });
});
