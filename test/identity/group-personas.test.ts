// Generic volume groups behind a real Keystone: administrators manage group types, members
// make groups and group snapshots in their own project, readers only read, and another
// project's groups are 404s.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { callerFor, missing, refused, type Caller } from '../helpers/callers.js';
import { startKeystone } from '../helpers/keystone.js';
import { scratchDir, startServeProcess } from '../helpers/process.js';

const version = '3.58';

async function waitForGroup(call: Caller, path: string, key: string, status: string): Promise<any> {
  for (let i = 0; i < 400; i++) {
    const res = await call('GET', path, undefined, { version });
    if (res.body?.[key]?.status === status) return res.body[key];
    await new Promise((r) => setTimeout(r, 25));
  }
  throw new Error(`${path} never became ${status}`);
}

test('group personas: administrators manage group types, members their groups, other projects see nothing', async (t) => {
  const ks = await startKeystone(t);
  if (!ks) return;
  const dir = await scratchDir(t, 'cinderblock-group-personas-');
  const passwordFile = join(dir, 'password');
  await writeFile(passwordFile, ks.users.cinder.password);
  const svc = await startServeProcess(t, ['--auth-strategy', 'keystone', '--keystone-url', ks.url, '--keystone-password-file', passwordFile]);
  const token = async (user: 'alice' | 'bob' | 'carol' | 'dave') => (await ks.token(user)).token;
  const demo = ks.projects.demo.id;
  const alice = callerFor(svc.endpoint, demo, await token('alice'));
  const bob = callerFor(svc.endpoint, demo, await token('bob'));
  const carol = callerFor(svc.endpoint, demo, await token('carol'));
  const dave = callerFor(svc.endpoint, ks.projects.other.id, await token('dave'));

  const publicType = (await carol('POST', 'group_types', { group_type: { name: 'public', group_specs: { k: 'v' } } }, { version })).body.group_type;
  const privateType = (await carol('POST', 'group_types', { group_type: { name: 'private', is_public: false } }, { version })).body.group_type;
  const volumeType = (await carol('POST', 'types', { volume_type: { name: 'grouped' } })).body.volume_type;
  refused(await alice('POST', 'group_types', { group_type: { name: 'mine' } }, { version }), 'group:group_types:create');
  refused(await alice('PUT', `group_types/${publicType.id}`, { group_type: { name: 'x' } }, { version }), 'group:group_types:update');
  refused(await alice('DELETE', `group_types/${publicType.id}`, undefined, { version }), 'group:group_types:delete');
  refused(await alice('GET', `group_types/${publicType.id}/group_specs`, undefined, { version }), 'group:group_types_specs:get_all');
  // A member sees public types only, and without their specs.
  assert.deepEqual((await alice('GET', 'group_types?is_public=None', undefined, { version })).body.group_types, [
    { id: publicType.id, name: 'public', description: null, is_public: true },
  ]);
  missing(await alice('GET', `group_types/${privateType.id}`, undefined, { version }), new RegExp(`^Group type ${privateType.id} could not be found\\.$`));

  refused(await bob('POST', 'groups', { group: { group_type: publicType.id, volume_types: [volumeType.id] } }, { version }), 'group:create');
  const made = await alice('POST', 'groups', { group: { name: 'alices', group_type: publicType.id, volume_types: [volumeType.id] } }, { version });
  assert.equal(made.status, 202, JSON.stringify(made.body));
  const groupId = made.body.group.id as string;
  const group = await waitForGroup(alice, `groups/${groupId}`, 'group', 'available');
  assert.ok(!('project_id' in group), 'the project of a group is an administrator’s to see');
  assert.equal((await carol('GET', `groups/${groupId}`, undefined, { version })).body.group.project_id, demo);
  missing(await alice('POST', 'groups', { group: { group_type: privateType.id, volume_types: [volumeType.id] } }, { version }), /could not be found/);

  assert.equal((await bob('GET', `groups/${groupId}`, undefined, { version })).status, 200);
  refused(await bob('PUT', `groups/${groupId}`, { group: { name: 'x' } }, { version }), 'group:update');
  refused(await bob('POST', `groups/${groupId}/action`, { delete: {} }, { version }), 'group:delete');
  refused(await bob('POST', 'group_snapshots', { group_snapshot: { group_id: groupId } }, { version }), 'group:create_group_snapshot');
  refused(await alice('POST', `groups/${groupId}/action`, { reset_status: { status: 'error' } }, { version }), 'group:reset_status');

  const gs = await alice('POST', 'group_snapshots', { group_snapshot: { group_id: groupId, name: 'gs' } }, { version });
  assert.equal(gs.status, 202, JSON.stringify(gs.body));
  const groupSnapshot = await waitForGroup(alice, `group_snapshots/${gs.body.group_snapshot.id}`, 'group_snapshot', 'available');
  assert.ok(!('project_id' in groupSnapshot));
  refused(await alice('POST', `group_snapshots/${groupSnapshot.id}/action`, { reset_status: { status: 'error' } }, { version }), 'group:reset_group_snapshot_status');
  refused(await bob('DELETE', `group_snapshots/${groupSnapshot.id}`, undefined, { version }), 'group:delete_group_snapshot');

  missing(await dave('GET', `groups/${groupId}`, undefined, { version }), new RegExp(`^Group ${groupId} could not be found\\.$`));
  missing(await dave('PUT', `groups/${groupId}`, { group: { name: 'x' } }, { version }), /could not be found/);
  missing(await dave('POST', `groups/${groupId}/action`, { delete: {} }, { version }), /could not be found/);
  missing(await dave('POST', 'volumes', { volume: { size: 1, volume_type: volumeType.id, group_id: groupId } }, { version }), /could not be found/);
  missing(await dave('GET', `group_snapshots/${groupSnapshot.id}`, undefined, { version }), /^GroupSnapshot .* could not be found\.$/);
  missing(await dave('POST', 'groups/action', { 'create-from-src': { source_group_id: groupId } }, { version }), /could not be found/);
  assert.deepEqual((await dave('GET', 'groups?all_tenants=1', undefined, { version })).body.groups, []);
  assert.deepEqual((await dave('GET', 'group_snapshots', undefined, { version })).body.group_snapshots, []);
  assert.equal((await carol('GET', 'groups?all_tenants=1', undefined, { version })).body.groups.length, 1);
});
