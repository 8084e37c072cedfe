import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { rename, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { test } from 'node:test';
import { CinderError } from '../../src/errors.js';
import type { BlockStorage } from '../../src/volumes/service.js';
import type { RequestContext, VolumeStatus } from '../../src/volumes/types.js';
import { forEachDatabase } from '../helpers/databases.js';
import {
  SERVER_A,
  SERVER_B,
  adminCtx,
  availableVolume,
  connector,
  serviceForSuite,
  startService,
  userCtx,
  waitForGone,
  waitForStatus,
} from './harness.js';

async function rejects(promise: Promise<unknown>, status: number, message: string | RegExp): Promise<void> {
  await assert.rejects(promise, (err: unknown) => {
    assert.ok(err instanceof CinderError, `expected a CinderError, got ${String(err)}`);
    assert.equal(err.status, status, err.message);
    if (typeof message === 'string') assert.equal(err.message, message);
    else assert.match(err.message, message);
    return true;
  });
}

async function statusOf(storage: BlockStorage, ctx: RequestContext, id: string): Promise<[VolumeStatus, string]> {
  const v = await storage.getVolume(ctx, id);
  return [v.status, v.attachStatus];
}

forEachDatabase('workflow', (db) => {
  const suite = serviceForSuite(db);

  test('create: 202-style record in creating, then available with a sparse file behind it', async () => {
    const ctx = userCtx();
    const created = await suite.svc.storage.createVolume(ctx, { size: 2, name: 'disk', metadata: { a: 'b' } });
    assert.equal(created.status, 'creating');
    assert.equal(created.volumeTypeName, '__DEFAULT__');
    assert.equal(created.multiattach, false);
    assert.deepEqual(created.metadata, { a: 'b' });
    const ready = await waitForStatus(suite.svc.storage, ctx, created.id, 'available');
    assert.equal(ready.size, 2);
    assert.equal(ready.host, 'testhost@file#file');
  });

  test('legacy six-call flow moves through Cinder statuses, and connection_info is what was persisted', async () => {
    const ctx = userCtx();
    const v = await availableVolume(suite.svc.storage, ctx);
    await suite.svc.storage.reserve(ctx, v.id);
    assert.deepEqual(await statusOf(suite.svc.storage, ctx, v.id), ['attaching', 'detached']);
    const conn = connector('compute1');
    const info = await suite.svc.storage.initializeConnection(ctx, v.id, conn);
    assert.deepEqual(await statusOf(suite.svc.storage, ctx, v.id), ['attaching', 'detached']);
    const row = await suite.raw.db.selectFrom('volumes').selectAll().where('id', '=', v.id).executeTakeFirstOrThrow();
    const iqn = `iqn.2010-10.org.openstack:volume-${v.id}`;
    assert.equal(info.driver_volume_type, 'iscsi');
    assert.deepEqual(info.data, {
      target_discovered: false,
      target_portal: suite.svc.config.iscsiListen,
      target_iqn: iqn,
      target_lun: suite.svc.target.lun,
      volume_id: v.id,
      auth_method: 'CHAP',
      auth_username: row.provider_auth!.split(' ')[1],
      auth_password: row.provider_auth!.split(' ')[2],
      encrypted: false,
      qos_specs: null,
      access_mode: 'rw',
      cacheable: false,
    });
    assert.match(String(info.data['auth_username']), /^[2-9A-HJ-NP-Za-km-z]{20}$/);
    assert.match(String(info.data['auth_password']), /^[2-9A-HJ-NP-Za-km-z]{16}$/);
    assert.equal(row.provider_location, `${suite.svc.config.iscsiListen},${iqn} ${iqn} ${suite.svc.target.lun}`);
    assert.deepEqual([...suite.svc.target.exports.get(iqn)!.access], [[conn['initiator'], false]]);
    assert.equal(suite.svc.target.exports.get(iqn)!.chap.password, info.data['auth_password']);

    await suite.svc.storage.attach(ctx, v.id, { instanceUuid: SERVER_A, mountpoint: '/dev/vdb', mode: 'rw' });
    const attached = await suite.svc.storage.getVolume(ctx, v.id);
    assert.deepEqual([attached.status, attached.attachStatus], ['in-use', 'attached']);
    assert.equal(attached.attachments.length, 1);
    assert.equal(attached.attachments[0]!.instanceUuid, SERVER_A);
    assert.equal(attached.attachments[0]!.attachStatus, 'attached');
    assert.deepEqual(attached.attachments[0]!.connector, conn);
    assert.equal(attached.attachments[0]!.connectionInfo, null);
    assert.equal(attached.adminMetadata['attached_mode'], 'rw');

    await suite.svc.storage.beginDetaching(ctx, v.id);
    assert.deepEqual(await statusOf(suite.svc.storage, ctx, v.id), ['detaching', 'attached']);
    await suite.svc.storage.terminateConnection(ctx, v.id, conn, false);
    assert.deepEqual(await statusOf(suite.svc.storage, ctx, v.id), ['detaching', 'attached']);
    assert.equal(suite.svc.target.exports.get(iqn)!.access.size, 0, 'the initiator lost access at terminate_connection');
    await suite.svc.storage.detach(ctx, v.id, attached.attachments[0]!.id);
    const detached = await suite.svc.storage.getVolume(ctx, v.id);
    assert.deepEqual([detached.status, detached.attachStatus, detached.attachments.length], ['available', 'detached', 0]);
    assert.equal(suite.svc.target.exports.has(iqn), false, 'the export went with the last attachment');
    assert.equal(detached.adminMetadata['attached_mode'], undefined);
  });

  test('retries: initialize_connection twice gives the same target and CHAP; os-attach twice keeps one attachment', async () => {
    const ctx = userCtx();
    const v = await availableVolume(suite.svc.storage, ctx);
    await suite.svc.storage.reserve(ctx, v.id);
    const first = await suite.svc.storage.initializeConnection(ctx, v.id, connector('retry'));
    const second = await suite.svc.storage.initializeConnection(ctx, v.id, connector('retry'));
    assert.deepEqual(second, first);
    const attach = { instanceUuid: SERVER_A, mountpoint: '/dev/vdb', mode: 'rw' as const };
    await suite.svc.storage.attach(ctx, v.id, attach);
    await suite.svc.storage.attach(ctx, v.id, attach);
    const volume = await suite.svc.storage.getVolume(ctx, v.id);
    assert.equal(volume.attachments.length, 1);
    assert.equal(volume.status, 'in-use');
    const grants = await suite.raw.db.selectFrom('volume_connections').selectAll().where('volume_id', '=', v.id).execute();
    assert.equal(grants.length, 1);
    assert.equal(grants[0]!.attachment_id, volume.attachments[0]!.id);
  });

  test('wrong-state answers carry Cinder texts and name the actual state', async () => {
    const ctx = userCtx();
    const v = await availableVolume(suite.svc.storage, ctx);
    await rejects(
      suite.svc.storage.beginDetaching(ctx, v.id),
      400,
      "Invalid volume: Unable to detach volume. Volume status must be 'in-use' and attach_status must be 'attached' to detach.",
    );
    await suite.svc.storage.reserve(ctx, v.id);
    await rejects(suite.svc.storage.reserve(ctx, v.id), 400, 'Invalid volume: Volume status must be available to reserve, but the status is attaching.');
    await rejects(
      suite.svc.storage.createAttachment(ctx, { volumeId: v.id, instanceUuid: SERVER_A }),
      400,
      `Invalid volume: Volume ${v.id} status must be available or downloading to reserve, but the current status is attaching.`,
    );
    await rejects(
      suite.svc.storage.updateReadonlyFlag(ctx, v.id, true),
      400,
      `Invalid volume: Volume ${v.id} status must be available to update readonly flag, but current status is: attaching.`,
    );
    await rejects(
      suite.svc.storage.extendVolume(ctx, v.id, 5, { allowAttached: false }),
      400,
      `Invalid volume: Volume ${v.id} status must be '{'status': 'available'}' to extend, currently attaching.`,
    );
    await rejects(suite.svc.storage.deleteVolume(ctx, v.id, { force: false, cascade: false }), 400, /^Invalid volume: Volume status must be available or error/);
    await rejects(
      suite.svc.storage.initializeConnection(ctx, v.id, { host: 'nohost' }),
      400,
      "Invalid input received: Connector doesn't have required information: initiator",
    );
    // Silent no-ops, as in Cinder.
    await suite.svc.storage.rollDetaching(ctx, v.id);
    await suite.svc.storage.unreserve(ctx, v.id);
    await suite.svc.storage.unreserve(ctx, v.id);
    assert.deepEqual(await statusOf(suite.svc.storage, ctx, v.id), ['available', 'detached']);
    await rejects(suite.svc.storage.getVolume(userCtx(), v.id), 404, `Volume ${v.id} could not be found.`);
    await rejects(suite.svc.storage.reserve(ctx, randomUUID()), 404, /could not be found\.$/);
  });

  test('os-detach: several attachments need an id; an unknown id settles the status and succeeds', async () => {
    const ctx = userCtx();
    const type = await suite.svc.storage.createVolumeType(adminCtx(), { name: `ma-${randomUUID()}`, extraSpecs: { multiattach: '<is> True' } });
    const v = await availableVolume(suite.svc.storage, ctx, { volumeType: type.name });
    assert.equal(v.multiattach, true);
    await suite.svc.storage.attach(ctx, v.id, { instanceUuid: SERVER_A, mountpoint: '/dev/vdb', mode: 'rw' });
    await suite.svc.storage.reserve(ctx, v.id);
    await suite.svc.storage.attach(ctx, v.id, { instanceUuid: SERVER_B, mountpoint: '/dev/vdb', mode: 'rw' });
    await rejects(
      suite.svc.storage.detach(ctx, v.id, null),
      400,
      'Invalid volume: Detach volume failed: More than one attachment, but no attachment_id provided.',
    );
    await suite.svc.storage.beginDetaching(ctx, v.id);
    await suite.svc.storage.detach(ctx, v.id, randomUUID());
    assert.deepEqual(await statusOf(suite.svc.storage, ctx, v.id), ['in-use', 'attached']);
    const [a, b] = (await suite.svc.storage.getVolume(ctx, v.id)).attachments;
    await suite.svc.storage.detach(ctx, v.id, a!.id);
    assert.deepEqual(await statusOf(suite.svc.storage, ctx, v.id), ['in-use', 'attached']);
    await suite.svc.storage.detach(ctx, v.id, b!.id);
    assert.deepEqual(await statusOf(suite.svc.storage, ctx, v.id), ['available', 'detached']);
  });

  test('a non-multiattach volume refuses a second instance through os-attach', async () => {
    const ctx = userCtx();
    const v = await availableVolume(suite.svc.storage, ctx);
    await suite.svc.storage.attach(ctx, v.id, { instanceUuid: SERVER_A, mountpoint: '/dev/vdb', mode: 'rw' });
    await rejects(
      suite.svc.storage.attach(ctx, v.id, { instanceUuid: SERVER_B, mountpoint: '/dev/vdb', mode: 'rw' }),
      400,
      'Invalid volume: volume is already attached and multiple attachments are not enabled',
    );
  });

  test('attachments API: reserve, connect, complete, delete, and the status recomputed from what remains', async () => {
    const ctx = userCtx();
    const service = { ...ctx, isService: true };
    const v = await availableVolume(suite.svc.storage, ctx);
    const reserved = await suite.svc.storage.createAttachment(ctx, { volumeId: v.id, instanceUuid: SERVER_A, connector: {} });
    assert.equal(reserved.attachStatus, 'reserved');
    assert.equal(reserved.attachMode, 'null');
    assert.equal(reserved.connectionInfo, null);
    assert.deepEqual(await statusOf(suite.svc.storage, ctx, v.id), ['reserved', 'detached']);

    const conn = connector('compute2', { mountpoint: '/dev/vdc' });
    const updated = await suite.svc.storage.updateAttachment(ctx, reserved.id, conn);
    assert.equal(updated.attachStatus, 'attaching');
    assert.equal(updated.attachedHost, 'compute2');
    assert.equal(updated.mountpoint, '/dev/vdc');
    assert.equal(updated.attachMode, 'rw');
    assert.equal(updated.connectionInfo!['driver_volume_type'], 'iscsi');
    assert.equal(updated.connectionInfo!['attachment_id'], reserved.id);
    assert.equal(updated.connectionInfo!['target_iqn'], `iqn.2010-10.org.openstack:volume-${v.id}`);
    assert.deepEqual(await statusOf(suite.svc.storage, ctx, v.id), ['attaching', 'attaching']);
    const again = await suite.svc.storage.updateAttachment(ctx, reserved.id, conn);
    assert.deepEqual(again.connectionInfo, updated.connectionInfo, 'an update retried with the same connector answers the same');

    await suite.svc.storage.completeAttachment(ctx, reserved.id);
    await suite.svc.storage.completeAttachment(ctx, reserved.id);
    assert.deepEqual(await statusOf(suite.svc.storage, ctx, v.id), ['in-use', 'attached']);
    assert.equal((await suite.svc.storage.getAttachment(ctx, reserved.id)).attachStatus, 'attached');

    await rejects(
      suite.svc.storage.deleteAttachment(ctx, reserved.id),
      409,
      `ConflictNovaUsingAttachment: Detach volume from instance ${SERVER_A} using the Compute API`,
    );
    assert.deepEqual(await suite.svc.storage.deleteAttachment(service, reserved.id), []);
    assert.deepEqual(await statusOf(suite.svc.storage, ctx, v.id), ['available', 'detached']);
    assert.equal(suite.svc.target.exports.has(`iqn.2010-10.org.openstack:volume-${v.id}`), false);
    await rejects(
      suite.svc.storage.deleteAttachment(service, reserved.id),
      404,
      `Volume attachment could not be found with filter: attachment_id = ${reserved.id}.`,
    );
  });

  test('attachments API: same-instance override, duplicate connectors, and delete returns the rest', async () => {
    const ctx = userCtx();
    const v = await availableVolume(suite.svc.storage, ctx);
    const first = await suite.svc.storage.createAttachment(ctx, { volumeId: v.id, instanceUuid: SERVER_A, connector: connector('src') });
    assert.deepEqual(await statusOf(suite.svc.storage, ctx, v.id), ['attaching', 'attaching']);
    await rejects(
      suite.svc.storage.createAttachment(ctx, { volumeId: v.id, instanceUuid: SERVER_B }),
      400,
      `Invalid volume: Volume ${v.id} status must be available or downloading to reserve, but the current status is attaching.`,
    );
    await suite.svc.storage.completeAttachment(ctx, first.id);
    // A server moving hosts reserves its volume a second time.
    const second = await suite.svc.storage.createAttachment(ctx, { volumeId: v.id, instanceUuid: SERVER_A });
    assert.equal(second.attachStatus, 'reserved');
    await rejects(
      suite.svc.storage.updateAttachment(ctx, second.id, connector('dest')),
      500,
      `Unable to update attachment.(Invalid volume: duplicate connectors detected on volume ${v.id}).`,
    );
    const remaining = await suite.svc.storage.deleteAttachment(ctx, second.id);
    assert.deepEqual(
      remaining.map((a) => [a.id, a.attachStatus]),
      [[first.id, 'attached']],
    );
    assert.deepEqual(await statusOf(suite.svc.storage, ctx, v.id), ['in-use', 'attached']);
  });

  test('noauth_trusts_callers lets any caller delete an attachment a server uses', async (t) => {
    const trusting = await startService(db().url, (fn) => t.after(fn), { noauthTrustsCallers: true });
    const ctx = userCtx();
    const v = await availableVolume(trusting.storage, ctx);
    const att = await trusting.storage.createAttachment(ctx, { volumeId: v.id, instanceUuid: SERVER_A, connector: connector('trusted') });
    await rejects(suite.svc.storage.deleteAttachment(ctx, att.id), 409, /^ConflictNovaUsingAttachment/);
    assert.deepEqual(await trusting.storage.deleteAttachment(ctx, att.id), []);
  });

  test('an attachment updated with another host\'s connector moves: the old host loses access', async () => {
    const ctx = userCtx();
    const v = await availableVolume(suite.svc.storage, ctx);
    const iqn = `iqn.2010-10.org.openstack:volume-${v.id}`;
    const src = connector('move-src');
    const dst = connector('move-dst');
    const att = await suite.svc.storage.createAttachment(ctx, { volumeId: v.id, instanceUuid: SERVER_A, connector: src });
    assert.deepEqual([...suite.svc.target.exports.get(iqn)!.access.keys()], [src['initiator']]);
    const moved = await suite.svc.storage.updateAttachment(ctx, att.id, dst);
    assert.deepEqual([...suite.svc.target.exports.get(iqn)!.access.keys()], [dst['initiator']]);
    assert.equal(moved.attachedHost, 'move-dst');
    assert.equal(moved.connectionInfo!['auth_password'], att.connectionInfo!['auth_password']);
  });

  test('attachment create with a connector that cannot connect leaves nothing behind', async () => {
    const ctx = userCtx();
    const v = await availableVolume(suite.svc.storage, ctx);
    await rejects(
      suite.svc.storage.createAttachment(ctx, { volumeId: v.id, instanceUuid: SERVER_A, connector: { host: 'x' } }),
      500,
      "Unable to create attachment for volume (Invalid input received: Connector doesn't have required information: initiator).",
    );
    assert.deepEqual(await statusOf(suite.svc.storage, ctx, v.id), ['available', 'detached']);
    assert.equal((await suite.svc.storage.listAttachments(ctx, { filters: { volume_id: v.id }, sort: [], allTenants: false })).count, 0);
  });

  test('multiattach: one host keeps access while another of its attachments remains; ro attachments get ro access', async () => {
    const ctx = userCtx();
    const service = { ...ctx, isService: true };
    const type = await suite.svc.storage.createVolumeType(adminCtx(), { name: `ma-${randomUUID()}`, extraSpecs: { multiattach: '<is> True' } });
    const v = await availableVolume(suite.svc.storage, ctx, { volumeType: type.name });
    const iqn = `iqn.2010-10.org.openstack:volume-${v.id}`;
    const host = connector('shared');
    const a = await suite.svc.storage.createAttachment(ctx, { volumeId: v.id, instanceUuid: SERVER_A, connector: host, mode: 'ro' });
    assert.equal(a.connectionInfo!['access_mode'], 'ro');
    assert.equal(suite.svc.target.exports.get(iqn)!.access.get(String(host['initiator'])), true);
    await suite.svc.storage.completeAttachment(ctx, a.id);
    const b = await suite.svc.storage.createAttachment(ctx, { volumeId: v.id, instanceUuid: SERVER_B, connector: host });
    assert.equal(b.connectionInfo!['access_mode'], 'rw');
    assert.equal(suite.svc.target.exports.get(iqn)!.access.get(String(host['initiator'])), false, 'one rw attachment makes the host rw');
    assert.equal(a.connectionInfo!['auth_password'], b.connectionInfo!['auth_password']);
    await suite.svc.storage.completeAttachment(ctx, b.id);
    await suite.svc.storage.deleteAttachment(service, b.id);
    assert.equal(suite.svc.target.exports.get(iqn)!.access.get(String(host['initiator'])), true, 'back to ro, still allowed');
    assert.deepEqual(await statusOf(suite.svc.storage, ctx, v.id), ['in-use', 'attached']);
    await suite.svc.storage.deleteAttachment(service, a.id);
    assert.equal(suite.svc.target.exports.has(iqn), false);
    assert.deepEqual(await statusOf(suite.svc.storage, ctx, v.id), ['available', 'detached']);
  });

  test('read-only flag: ro attachments only, in every door', async () => {
    const ctx = userCtx();
    const v = await availableVolume(suite.svc.storage, ctx);
    await suite.svc.storage.updateReadonlyFlag(ctx, v.id, true);
    assert.equal((await suite.svc.storage.getVolume(ctx, v.id)).adminMetadata['readonly'], 'True');
    await rejects(
      suite.svc.storage.attach(ctx, v.id, { instanceUuid: SERVER_A, mountpoint: '/dev/vdb', mode: 'rw' }),
      400,
      `Invalid attaching mode 'rw' for volume ${v.id}.`,
    );
    const info = await suite.svc.storage.initializeConnection(ctx, v.id, connector('ro'));
    assert.equal(info.data['access_mode'], 'ro');
    const att = await suite.svc.storage.createAttachment(ctx, { volumeId: v.id, instanceUuid: SERVER_A, connector: connector('ro2'), mode: 'rw' });
    assert.equal(att.attachMode, 'ro');
    assert.equal(att.connectionInfo!['access_mode'], 'ro');
  });

  test('extend: available and (3.42) attached; the target is told when hosts are connected', async () => {
    const ctx = userCtx();
    const v = await availableVolume(suite.svc.storage, ctx);
    await rejects(
      suite.svc.storage.extendVolume(ctx, v.id, 1, { allowAttached: false }),
      400,
      'Invalid input received: New size for extend must be greater than current size. (current: 1, extended: 1).',
    );
    await suite.svc.storage.extendVolume(ctx, v.id, 2, { allowAttached: false });
    assert.equal((await waitForStatus(suite.svc.storage, ctx, v.id, 'available')).size, 2);
    const att = await suite.svc.storage.createAttachment(ctx, { volumeId: v.id, instanceUuid: SERVER_A, connector: connector('grow') });
    await suite.svc.storage.completeAttachment(ctx, att.id);
    await rejects(
      suite.svc.storage.extendVolume(ctx, v.id, 3, { allowAttached: false }),
      400,
      `Invalid volume: Volume ${v.id} status must be '{'status': 'available'}' to extend, currently in-use.`,
    );
    await suite.svc.storage.extendVolume(ctx, v.id, 3, { allowAttached: true });
    const grown = await waitForStatus(suite.svc.storage, ctx, v.id, 'in-use');
    assert.equal(grown.size, 3);
    assert.ok(suite.svc.target.calls.includes(`resized iqn.2010-10.org.openstack:volume-${v.id}`));
  });

  test('backend failures end in error and error_extending', async () => {
    const ctx = userCtx();
    const v = await availableVolume(suite.svc.storage, ctx);
    await rm(join(suite.svc.config.dataDir, 'volumes', `volume-${v.id}`));
    await suite.svc.storage.extendVolume(ctx, v.id, 2, { allowAttached: false });
    const failed = await waitForStatus(suite.svc.storage, ctx, v.id, 'error_extending');
    assert.equal(failed.size, 1);
    const volumesDir = join(suite.svc.config.dataDir, 'volumes');
    await rename(volumesDir, `${volumesDir}.away`);
    try {
      const broken = await suite.svc.storage.createVolume(ctx, { size: 1 });
      await waitForStatus(suite.svc.storage, ctx, broken.id, 'error');
    } finally {
      await rename(`${volumesDir}.away`, volumesDir);
    }
  });

  test('attachment lists: filters, project scope and all_tenants', async () => {
    const ctx = userCtx();
    const v = await availableVolume(suite.svc.storage, ctx);
    const w = await availableVolume(suite.svc.storage, ctx);
    const a = await suite.svc.storage.createAttachment(ctx, { volumeId: v.id, instanceUuid: SERVER_A });
    const b = await suite.svc.storage.createAttachment(ctx, { volumeId: w.id, instanceUuid: SERVER_B, connector: connector('listing') });
    const list = (c: RequestContext, filters: Record<string, unknown>, allTenants = false) =>
      suite.svc.storage.listAttachments(c, { filters, sort: [], allTenants }).then((r) => r.attachments.map((x) => x.id));
    assert.deepEqual(await list(ctx, {}), [b.id, a.id]);
    assert.deepEqual(await list(ctx, { volume_id: v.id }), [a.id]);
    assert.deepEqual(await list(ctx, { status: 'attaching' }), [b.id]);
    assert.deepEqual(await list(ctx, { instance_id: SERVER_A }), [a.id]);
    assert.deepEqual(await list(userCtx(), {}), []);
    assert.deepEqual(await list(userCtx(), {}, true), []);
    const everywhere = await list(adminCtx(), {}, true);
    assert.ok(everywhere.includes(a.id) && everywhere.includes(b.id));
    await rejects(suite.svc.storage.getAttachment(userCtx(), a.id), 404, `Volume attachment could not be found with filter: attachment_id = ${a.id}.`);
  });

  test('delete: a volume with attached status is refused; an available one goes, with its file', async () => {
    const ctx = userCtx();
    const v = await availableVolume(suite.svc.storage, ctx);
    await suite.svc.storage.attach(ctx, v.id, { hostName: 'Bare_Metal host', mountpoint: '/mnt', mode: 'rw' });
    assert.equal((await suite.svc.storage.getVolume(ctx, v.id)).attachments[0]!.attachedHost, 'bare-metal-host');
    await rejects(suite.svc.storage.deleteVolume(ctx, v.id, { force: false, cascade: false }), 400, /must not be migrating, attached/);
    await suite.svc.storage.detach(ctx, v.id, null);
    await suite.svc.storage.deleteVolume(ctx, v.id, { force: false, cascade: false });
    await waitForGone(suite.svc.storage, ctx, v.id);
    const rows = await suite.raw.db.selectFrom('volume_attachment').select('id').where('volume_id', '=', v.id).execute();
    assert.equal(rows.length, 0);
  });

  test('reset_status and force_detach (admin): validation, and detaching resets every attachment', async () => {
    const ctx = userCtx();
    const admin = adminCtx(ctx.projectId, { isService: true });
    const v = await availableVolume(suite.svc.storage, ctx);
    await rejects(suite.svc.storage.resetStatus(ctx, v.id, { status: 'available' }), 403, /^Policy doesn't allow/);
    await rejects(suite.svc.storage.resetStatus(admin, v.id, {}), 400, "Must specify 'status', 'attach_status' or 'migration_status' for update.");
    await rejects(suite.svc.storage.resetStatus(admin, v.id, { status: 'bogus' }), 400, /^Volume status: bogus is invalid, valid statuses are: \('creating', /);
    await rejects(suite.svc.storage.resetStatus(admin, v.id, { status: 'deleting' }), 400, 'Cannot reset-state to deleting');
    await rejects(
      suite.svc.storage.resetStatus(admin, v.id, { status: 'in-use' }),
      400,
      'Cannot reset-state to in-use because volume does not have any attachments.',
    );
    await suite.svc.storage.resetStatus(admin, v.id, { status: 'error' });
    assert.equal((await suite.svc.storage.getVolume(ctx, v.id)).status, 'error');
    await suite.svc.storage.resetStatus(admin, v.id, { status: 'available' });

    const att = await suite.svc.storage.createAttachment(ctx, { volumeId: v.id, instanceUuid: SERVER_A, connector: connector('stuck') });
    await suite.svc.storage.completeAttachment(ctx, att.id);
    await suite.svc.storage.resetStatus(admin, v.id, { attachStatus: 'detached' });
    assert.deepEqual(await statusOf(suite.svc.storage, ctx, v.id), ['available', 'detached']);
    assert.equal(suite.svc.target.exports.has(`iqn.2010-10.org.openstack:volume-${v.id}`), false);

    const b = await suite.svc.storage.createAttachment(ctx, { volumeId: v.id, instanceUuid: SERVER_B, connector: connector('force') });
    await suite.svc.storage.completeAttachment(ctx, b.id);
    await suite.svc.storage.forceDetach(admin, v.id, connector('force'), b.id);
    assert.deepEqual(await statusOf(suite.svc.storage, ctx, v.id), ['available', 'detached']);
  });

  test('the status after a detach follows Cinder (alphabetically first remaining attach_status)', async () => {
    const ctx = userCtx();
    const service = { ...ctx, isService: true };
    const type = await suite.svc.storage.createVolumeType(adminCtx(), { name: `ma-${randomUUID()}`, extraSpecs: { multiattach: '<is> True' } });
    const cases: Array<{ remaining: Array<'reserved' | 'attaching' | 'attached'>; expected: [VolumeStatus, string] }> = [
      { remaining: [], expected: ['available', 'detached'] },
      { remaining: ['reserved'], expected: ['reserved', 'reserved'] },
      { remaining: ['reserved', 'attaching'], expected: ['attaching', 'attaching'] },
      { remaining: ['attaching', 'attached'], expected: ['in-use', 'attached'] },
    ];
    for (const c of cases) {
      const v = await availableVolume(suite.svc.storage, ctx, { volumeType: type.name });
      const gone = await suite.svc.storage.createAttachment(ctx, { volumeId: v.id, instanceUuid: SERVER_A, connector: connector('gone') });
      await suite.svc.storage.completeAttachment(ctx, gone.id);
      // All remaining ones belong to one server, so the same-instance rule lets them be
      // reserved while the volume is already reserved.
      const others = [];
      for (const _ of c.remaining) others.push(await suite.svc.storage.createAttachment(ctx, { volumeId: v.id, instanceUuid: SERVER_B }));
      for (const [i, status] of c.remaining.entries()) {
        if (status !== 'reserved') await suite.svc.storage.updateAttachment(ctx, others[i]!.id, connector(`h${i}`));
        if (status === 'attached') await suite.svc.storage.completeAttachment(ctx, others[i]!.id);
      }
      await suite.svc.storage.deleteAttachment(service, gone.id);
      assert.deepEqual(await statusOf(suite.svc.storage, ctx, v.id), c.expected, `remaining ${c.remaining.join(',')}`);
    }
  });

  test('lists: project scope, filters, unknown admin filters, sort, marker, limit and count', async () => {
    const ctx = userCtx();
    const admin = adminCtx(ctx.projectId);
    const made = [];
    for (const [i, size] of [3, 1, 2].entries()) {
      const v = await availableVolume(suite.svc.storage, ctx, { size, name: `vol-${i}` });
      made.push(v);
    }
    await suite.svc.storage.setBootable(ctx, made[0]!.id, true);
    await suite.svc.storage.setMetadata(ctx, made[1]!.id, { tier: 'gold' }, 'merge');
    const all = await suite.svc.storage.listVolumes(ctx, { filters: {}, sort: [], allTenants: false });
    assert.equal(all.count, 3);
    assert.deepEqual(
      all.volumes.map((v) => v.id),
      made.map((v) => v.id).reverse(),
      'newest first by default',
    );
    const bySize = await suite.svc.storage.listVolumes(ctx, { filters: {}, sort: [{ key: 'size', dir: 'asc' }], allTenants: false });
    assert.deepEqual(bySize.volumes.map((v) => v.size), [1, 2, 3]);
    const page = await suite.svc.storage.listVolumes(ctx, { filters: {}, sort: [{ key: 'size', dir: 'asc' }], limit: 1, marker: bySize.volumes[0]!.id, allTenants: false });
    assert.deepEqual([page.volumes.map((v) => v.size), page.count], [[2], 3]);
    assert.deepEqual((await suite.svc.storage.listVolumes(ctx, { filters: { name: 'vol-2' }, sort: [], allTenants: false })).volumes.map((v) => v.name), ['vol-2']);
    assert.equal((await suite.svc.storage.listVolumes(ctx, { filters: { bootable: 'true' }, sort: [], allTenants: false })).volumes[0]!.id, made[0]!.id);
    assert.equal((await suite.svc.storage.listVolumes(ctx, { filters: { metadata: { tier: 'gold' } }, sort: [], allTenants: false })).volumes[0]!.id, made[1]!.id);
    assert.equal((await suite.svc.storage.listVolumes(ctx, { filters: { 'name~': 'vol-' }, sort: [], allTenants: false })).count, 3);
    // Unknown keys: dropped for users, an empty list for admins (Cinder).
    assert.equal((await suite.svc.storage.listVolumes(ctx, { filters: { bogus: '1' }, sort: [], allTenants: false })).count, 3);
    assert.equal((await suite.svc.storage.listVolumes(admin, { filters: { status: 'available', bogus: '1' }, sort: [], allTenants: false })).count, 0);
    assert.equal((await suite.svc.storage.listVolumes(userCtx(), { filters: {}, sort: [], allTenants: true })).count, 0);
    assert.ok((await suite.svc.storage.listVolumes(adminCtx(), { filters: {}, sort: [], allTenants: true })).count >= 3);
    await rejects(suite.svc.storage.listVolumes(ctx, { filters: {}, sort: [], marker: randomUUID(), allTenants: false }), 404, /^Marker /);
  });

  test('volume types: __DEFAULT__ exists, names are unique, extra specs make multiattach volumes', async () => {
    const admin = adminCtx();
    const types = await suite.svc.storage.listVolumeTypes(admin);
    assert.ok(types.some((t) => t.name === '__DEFAULT__'));
    const name = `gold-${randomUUID()}`;
    const gold = await suite.svc.storage.createVolumeType(admin, { name, description: 'fast' });
    await rejects(suite.svc.storage.createVolumeType(admin, { name }), 409, `Volume Type ${name} already exists.`);
    await rejects(suite.svc.storage.createVolumeType(userCtx(), { name: 'x' }), 403, /^Policy doesn't allow/);
    assert.deepEqual(await suite.svc.storage.setExtraSpecs(admin, gold.id, { multiattach: '<is> True' }, 'create'), { multiattach: '<is> True' });
    const v = await availableVolume(suite.svc.storage, admin, { volumeType: gold.id });
    assert.equal(v.multiattach, true);
    await rejects(suite.svc.storage.deleteVolumeType(admin, gold.id), 400, 'Target volume type is still in use.');
    await suite.svc.storage.deleteExtraSpec(admin, gold.id, 'multiattach');
    await rejects(suite.svc.storage.deleteExtraSpec(admin, gold.id, 'multiattach'), 404, /has no extra specs with key multiattach/);
    await rejects(suite.svc.storage.createVolume(admin, { size: 1, volumeType: 'nope' }), 404, 'Volume type with name nope could not be found.');
    const def = await suite.svc.storage.getVolumeType(admin, '__DEFAULT__');
    await rejects(suite.svc.storage.deleteVolumeType(admin, def.id), 400, `The volume type ${def.id} is a default volume type and cannot be deleted.`);
  });
});
