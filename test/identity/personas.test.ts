// Cinder's personas behind a real Keystone, over raw HTTP: a project reader only reads, a
// member acts in its own project, an administrator acts everywhere, another project's
// objects are 404s, and Nova's service token is what lets an attachment a server uses go.
// Every refusal below names the rule that refused it, and fails if that rule's check goes.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { startKeystone } from '../helpers/keystone.js';
import { scratchDir, startServeProcess } from '../helpers/process.js';
import { startService } from '../helpers/service.js';
import { callerFor, missing, refused, type Caller } from '../helpers/callers.js';

async function waitFor(call: Caller, id: string, status: string): Promise<any> {
  for (let i = 0; i < 200; i++) {
    const res = await call('GET', `volumes/${id}`);
    if (res.body?.volume?.status === status) return res.body.volume;
    await new Promise((r) => setTimeout(r, 25));
  }
  throw new Error(`volume ${id} never became ${status}`);
}

const connector = { initiator: 'iqn.1993-08.org.debian:01:personas', ip: '127.0.0.1', host: 'compute-1', platform: 'x86_64', os_type: 'linux', multipath: false };

test('personas: reader, member, admin and another project, with Keystone tokens', async (t) => {
  const ks = await startKeystone(t);
  if (!ks) return;
  const dir = await scratchDir(t, 'cinderblock-personas-');
  const passwordFile = join(dir, 'password');
  await writeFile(passwordFile, ks.users.cinder.password);
  const svc = await startServeProcess(t, ['--auth-strategy', 'keystone', '--keystone-url', ks.url, '--keystone-password-file', passwordFile]);
  const tokens = Object.fromEntries(
    await Promise.all((['alice', 'bob', 'carol', 'dave', 'nova'] as const).map(async (u) => [u, (await ks.token(u)).token] as const)),
  );
  const demo = ks.projects.demo.id;
  const other = ks.projects.other.id;
  const alice = callerFor(svc.endpoint, demo, tokens.alice!);
  const bob = callerFor(svc.endpoint, demo, tokens.bob!);
  const carol = callerFor(svc.endpoint, demo, tokens.carol!);
  const dave = callerFor(svc.endpoint, other, tokens.dave!);

  const created = await alice('POST', 'volumes', { volume: { size: 1, name: 'alices' } });
  assert.equal(created.status, 202, JSON.stringify(created.body));
  const volumeId = created.body.volume.id as string;
  const volume = await waitFor(alice, volumeId, 'available');
  assert.equal(volume.user_id, ks.users.alice.id);
  const davesVolume = (await dave('POST', 'volumes', { volume: { size: 1 } })).body.volume.id as string;
  await waitFor(dave, davesVolume, 'available');
  const snap = await alice('POST', 'snapshots', { snapshot: { volume_id: volumeId, name: 's' } });
  assert.equal(snap.status, 202, JSON.stringify(snap.body));
  const snapshotId = snap.body.snapshot.id as string;
  const backup = await alice('POST', 'backups', { backup: { volume_id: davesVolume } });
  assert.equal(backup.status, 404, "another project's volume cannot be backed up");
  const alicesBackup = await alice('POST', 'backups', { backup: { volume_id: volumeId, name: 'b' } });
  assert.equal(alicesBackup.status, 202, JSON.stringify(alicesBackup.body));
  const backupId = alicesBackup.body.backup.id as string;
  for (let i = 0; i < 400 && (await alice('GET', `backups/${backupId}`)).body.backup.status !== 'available'; i++) await new Promise((r) => setTimeout(r, 25));
  await waitFor(alice, volumeId, 'available');

  await t.test('a project member sees its own volume with the tenant attribute, not the admin-only ones', async () => {
    assert.equal(volume['os-vol-tenant-attr:tenant_id'], demo);
    for (const adminOnly of ['os-vol-host-attr:host', 'os-vol-mig-status-attr:migstat', 'os-vol-mig-status-attr:name_id', 'migration_status']) {
      assert.ok(!(adminOnly in volume), adminOnly);
    }
  });

  await t.test('a reader reads, and may do nothing else', async () => {
    assert.equal((await bob('GET', `volumes/${volumeId}`)).status, 200);
    assert.equal((await bob('GET', 'volumes/detail')).body.volumes.length, 1);
    assert.equal((await bob('GET', `snapshots/${snapshotId}`)).status, 200);
    assert.equal((await bob('GET', `volumes/${volumeId}/metadata`)).status, 200);
    refused(await bob('POST', 'volumes', { volume: { size: 1 } }), 'volume:create');
    refused(await bob('PUT', `volumes/${volumeId}`, { volume: { name: 'x' } }), 'volume:update');
    refused(await bob('DELETE', `volumes/${volumeId}`), 'volume:delete');
    refused(await bob('POST', `volumes/${volumeId}/action`, { 'os-extend': { new_size: 2 } }), 'volume:extend');
    refused(await bob('POST', `volumes/${volumeId}/action`, { 'os-reserve': null }), 'volume_extension:volume_actions:reserve');
    refused(await bob('POST', `volumes/${volumeId}/action`, { 'os-initialize_connection': { connector } }), 'volume_extension:volume_actions:initialize_connection');
    refused(await bob('POST', `volumes/${volumeId}/action`, { 'os-set_bootable': { bootable: true } }), 'volume:update');
    refused(await bob('POST', `volumes/${volumeId}/action`, { 'os-update_readonly_flag': { readonly: true } }), 'volume:update_readonly_flag');
    refused(await bob('POST', `volumes/${volumeId}/metadata`, { metadata: { a: 'b' } }), 'volume:create_volume_metadata');
    refused(await bob('PUT', `volumes/${volumeId}/metadata`, { metadata: { a: 'b' } }), 'volume:update_volume_metadata');
    refused(await bob('POST', 'attachments', { attachment: { volume_uuid: volumeId } }, { version: '3.27' }), 'volume:attachment_create');
    refused(await bob('POST', 'snapshots', { snapshot: { volume_id: volumeId } }), 'volume:create_snapshot');
    refused(await bob('PUT', `snapshots/${snapshotId}`, { snapshot: { name: 'x' } }), 'volume:update_snapshot');
    refused(await bob('DELETE', `snapshots/${snapshotId}`), 'volume:delete_snapshot');
    const readable = await bob('GET', `backups/${backupId}`, undefined, { version: '3.56' });
    assert.equal(readable.status, 200);
    assert.ok(!('os-backup-project-attr:project_id' in readable.body.backup) && !('user_id' in readable.body.backup), 'the owner attributes are for administrators');
    assert.deepEqual((await bob('GET', 'backups')).body.backups.map((b: any) => b.id), [backupId]);
    refused(await bob('POST', 'backups', { backup: { volume_id: volumeId } }), 'backup:create');
    refused(await bob('PUT', `backups/${backupId}`, { backup: { name: 'x' } }, { version: '3.9' }), 'backup:update');
    refused(await bob('DELETE', `backups/${backupId}`), 'backup:delete');
    refused(await bob('POST', `backups/${backupId}/restore`, { restore: { volume_id: volumeId } }), 'backup:restore');
  });

  await t.test('a member acts in its project but not as an administrator', async () => {
    assert.equal((await alice('POST', `volumes/${volumeId}/metadata`, { metadata: { tier: 'gold' } })).status, 200);
    assert.equal((await alice('PUT', `volumes/${volumeId}`, { volume: { description: 'mine' } })).status, 200);
    refused(await alice('POST', `volumes/${volumeId}/action`, { 'os-reset_status': { status: 'error' } }), 'volume_extension:volume_admin_actions:reset_status');
    refused(await alice('POST', `volumes/${volumeId}/action`, { 'os-force_detach': {} }), 'volume_extension:volume_admin_actions:force_detach');
    refused(await alice('POST', `volumes/${volumeId}/action`, { 'os-force_delete': {} }), 'volume_extension:volume_admin_actions:force_delete');
    refused(await alice('DELETE', `volumes/${volumeId}?force=true`, undefined, { version: '3.23' }), 'volume:force_delete');
    refused(await alice('POST', 'types', { volume_type: { name: `t-${randomUUID().slice(0, 8)}` } }), 'volume_extension:type_create');
    refused(await alice('GET', 'os-services'), 'volume_extension:services:index');
    refused(await alice('GET', `backups/${backupId}/export_record`), 'backup:export-import');
    refused(await alice('POST', 'backups/import_record', { 'backup-record': { backup_service: 'x', backup_url: 'eyJpZCI6ICJ4In0=' } }), 'backup:backup-import');
    refused(await alice('POST', `backups/${backupId}/action`, { 'os-reset_status': { status: 'error' } }), 'volume_extension:backup_admin_actions:reset_status');
    refused(await alice('POST', `backups/${backupId}/action`, { 'os-force_delete': {} }), 'volume_extension:backup_admin_actions:force_delete');
    assert.equal((await alice('PUT', `backups/${backupId}`, { backup: { description: 'mine' } }, { version: '3.9' })).status, 200);
    // all_tenants is ignored for non-administrators: the list stays in the caller's project.
    const listed = (await alice('GET', 'volumes?all_tenants=1')).body.volumes.map((v: any) => v.id);
    assert.deepEqual(listed, [volumeId]);
  });

  await t.test("another project's objects do not exist for a member", async () => {
    missing(await dave('GET', `volumes/${volumeId}`), /^Volume .* could not be found\.$/);
    missing(await dave('DELETE', `volumes/${volumeId}`), /could not be found/);
    missing(await dave('POST', `volumes/${volumeId}/action`, { 'os-reserve': null }), /could not be found/);
    missing(await dave('POST', `volumes/${volumeId}/action`, { 'os-extend': { new_size: 2 } }), /could not be found/);
    missing(await dave('GET', `volumes/${volumeId}/metadata`), /could not be found/);
    missing(await dave('POST', 'attachments', { attachment: { volume_uuid: volumeId } }, { version: '3.27' }), /could not be found/);
    missing(await dave('GET', `snapshots/${snapshotId}`), /^Snapshot .* could not be found\.$/);
    missing(await dave('GET', `backups/${backupId}`), /^Backup .* could not be found\.$/);
    missing(await dave('DELETE', `backups/${backupId}`), /could not be found/);
    missing(await dave('POST', `backups/${backupId}/restore`, { restore: { volume_id: davesVolume } }), /could not be found/);
    assert.deepEqual((await dave('GET', 'backups?all_tenants=1')).body.backups, []);
    missing(await dave('POST', 'snapshots', { snapshot: { volume_id: volumeId } }), /could not be found/);
    missing(await dave('POST', 'volumes', { volume: { size: 1, source_volid: volumeId } }), /could not be found/);
    assert.deepEqual((await dave('GET', 'volumes?all_tenants=1')).body.volumes.map((v: any) => v.id), [davesVolume]);
  });

  await t.test('an administrator sees every project and the admin-only attributes, and acts on them', async () => {
    const everything = (await carol('GET', 'volumes/detail?all_tenants=1')).body.volumes;
    const owned = (await carol('GET', `backups/${backupId}`, undefined, { version: '3.56' })).body.backup;
    assert.deepEqual([owned['os-backup-project-attr:project_id'], owned.user_id], [demo, ks.users.alice.id]);
    assert.equal((await carol('GET', `backups/${backupId}/export_record`)).status, 200);
    assert.deepEqual(new Set(everything.map((v: any) => v.id)), new Set([volumeId, davesVolume]));
    const shown = (await carol('GET', `volumes/${davesVolume}`)).body.volume;
    assert.match(shown['os-vol-host-attr:host'], /@file#file$/);
    assert.equal(shown['os-vol-tenant-attr:tenant_id'], other);
    const reset = await carol('POST', `volumes/${davesVolume}/action`, { 'os-reset_status': { status: 'available' } });
    assert.equal(reset.status, 202);
    assert.equal((await carol('GET', 'os-services')).status, 200);
  });

  await t.test('quotas: members and readers see their own, only an administrator sets them', async () => {
    const own = await bob('GET', `os-quota-sets/${demo}?usage=True`);
    assert.equal(own.status, 200, JSON.stringify(own.body));
    assert.deepEqual(own.body.quota_set.volumes, { limit: 10, in_use: 1, reserved: 0 });
    assert.deepEqual(own.body.quota_set.snapshots, { limit: 10, in_use: 1, reserved: 0 });
    assert.equal((await alice('GET', `os-quota-sets/${demo}/defaults`)).status, 200);
    refused(await alice('GET', `os-quota-sets/${other}`), 'volume_extension:quotas:show');
    refused(await alice('GET', `os-quota-sets/${other}/defaults`), 'volume_extension:quotas:show');
    refused(await alice('PUT', `os-quota-sets/${demo}`, { quota_set: { volumes: 100 } }), 'volume_extension:quotas:update');
    refused(await alice('DELETE', `os-quota-sets/${demo}`), 'volume_extension:quotas:delete');
    refused(await alice('GET', 'os-quota-class-sets/default'), 'volume_extension:quota_classes:get');
    refused(await alice('PUT', 'os-quota-class-sets/default', { quota_class_set: { volumes: 100 } }), 'volume_extension:quota_classes:update');
    const limits = (await bob('GET', 'limits')).body.limits.absolute;
    assert.deepEqual([limits.maxTotalVolumes, limits.totalVolumesUsed, limits.totalSnapshotsUsed, limits.totalGigabytesUsed], [10, 1, 1, 2]);
    // Another project's figures are its own; ?project_id is an administrator's alone.
    assert.equal((await dave('GET', `limits?project_id=${demo}`, undefined, { version: '3.39' })).body.limits.absolute.totalSnapshotsUsed, 0);
    assert.equal((await carol('GET', `limits?project_id=${other}`, undefined, { version: '3.39' })).body.limits.absolute.totalVolumesUsed, 1);

    assert.equal((await carol('GET', `os-quota-sets/${other}`)).status, 200);
    const set = await carol('PUT', `os-quota-sets/${demo}`, { quota_set: { volumes: 1 } });
    assert.equal(set.status, 200, JSON.stringify(set.body));
    const over = await alice('POST', 'volumes', { volume: { size: 1 } });
    assert.equal(over.status, 413);
    assert.equal(over.body.overLimit.message, "Maximum number of volumes allowed (1) exceeded for quota 'volumes'.");
    assert.equal((await dave('GET', `os-quota-sets/${other}`)).body.quota_set.volumes, 10, "one project's limits are not another's");
    assert.equal((await carol('DELETE', `os-quota-sets/${demo}`)).status, 200);
    assert.equal((await carol('PUT', 'os-quota-class-sets/default', { quota_class_set: { snapshots: 20 } })).status, 200);
    assert.equal((await bob('GET', `os-quota-sets/${demo}`)).body.quota_set.snapshots, 20);
  });

  await t.test("an attachment Nova made goes only with Nova's service token", async () => {
    const server = randomUUID();
    const made = await alice('POST', 'attachments', { attachment: { volume_uuid: volumeId, instance_uuid: server, connector, mode: 'rw' } }, { version: '3.54' });
    assert.equal(made.status, 200, JSON.stringify(made.body));
    const attachmentId = made.body.attachment.id as string;
    assert.equal((await alice('POST', `attachments/${attachmentId}/action`, { 'os-complete': null }, { version: '3.54' })).status, 204);
    missing(await dave('GET', `attachments/${attachmentId}`), /could not be found/);
    const nova = `ConflictNovaUsingAttachment: Detach volume from instance ${server} using the Compute API`;
    const userDelete = await alice('DELETE', `attachments/${attachmentId}`, undefined, { version: '3.54' });
    assert.deepEqual(userDelete.body, { conflictingRequest: { code: 409, message: nova } });
    const terminate = await alice('POST', `volumes/${volumeId}/action`, { 'os-terminate_connection': { connector } });
    assert.deepEqual(terminate.body, { conflictingRequest: { code: 409, message: nova } });
    // A member's own token as the service token is no service token at all.
    assert.equal((await alice('DELETE', `attachments/${attachmentId}`, undefined, { version: '3.54', serviceToken: tokens.alice! })).status, 401);
    const novaDelete = await alice('DELETE', `attachments/${attachmentId}`, undefined, { version: '3.54', serviceToken: tokens.nova! });
    assert.equal(novaDelete.status, 200, JSON.stringify(novaDelete.body));
    assert.equal((await waitFor(alice, volumeId, 'available')).attachments.length, 0);
  });
});

test("personas: a policy file's rules replace Cinder's defaults", async (t) => {
  const ks = await startKeystone(t);
  if (!ks) return;
  const dir = await scratchDir(t, 'cinderblock-policy-');
  const policyFile = join(dir, 'policy.yaml');
  // Readers may create; members may no longer see a volume (a refused get is a 404).
  await writeFile(policyFile, ['"volume:create": "role:reader and project_id:%(project_id)s"', '"volume:get": "rule:admin_api"', ''].join('\n'));
  const svc = await startService(t, { authStrategy: 'keystone', keystoneUrl: ks.url, keystonePassword: ks.users.cinder.password, policyFile });
  const demo = ks.projects.demo.id;
  const bob = callerFor(`${svc.baseUrl}/v3`, demo, (await ks.token('bob')).token);
  const carol = callerFor(`${svc.baseUrl}/v3`, demo, (await ks.token('carol')).token);
  const made = await bob('POST', 'volumes', { volume: { size: 1 } });
  assert.equal(made.status, 202, JSON.stringify(made.body));
  missing(await bob('GET', `volumes/${made.body.volume.id}`), /could not be found/);
  assert.equal((await carol('GET', `volumes/${made.body.volume.id}`)).status, 200);
});
