import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ApiFault } from '../../src/api/faults.js';
import { ApiVersion } from '../../src/api/microversion.js';
import { planSnapshotList } from '../../src/api/query.js';
import type { RequestContext } from '../../src/volumes/types.js';
import { assertTempestSchema, requireTempestSchemas } from '../helpers/tempest-schema.js';
import { assertEmpty, assertFault, createVolume, forEachDatabase, serviceOn } from './support.js';
import { createSnapshot, snapshotAction } from './snapshot-support.js';

const member: RequestContext = {
  userId: 'u',
  projectId: 'p',
  roles: ['member'],
  isAdmin: false,
  isAdminProject: false,
  isService: false,
  requestId: 'req-x',
};

test('a member filtering on what resource filters do not allow: 400 from 3.33, dropped before', () => {
  assert.throws(
    () => planSnapshotList({ progress: '100%', name: 'a', all_tenants: '1' }, member, ApiVersion.parse('3.33')),
    (err: unknown) => err instanceof ApiFault && err.status === 400 && err.message === 'Invalid filters progress are found in query options.',
  );
  const old = planSnapshotList({ progress: '100%', name: 'a', metadata: "{'k': 'v'}" }, member, ApiVersion.parse('3.21'));
  assert.deepEqual(old.query.filters, { display_name: 'a' }, 'metadata filters start at 3.22');
  assert.deepEqual(planSnapshotList({ metadata: "{'k': 'v'}" }, member, ApiVersion.parse('3.22')).query.filters, { metadata: { k: 'v' } });
  assert.equal(planSnapshotList({ with_count: 'true' }, member, ApiVersion.parse('3.44')).withCount, false);
  assert.equal(planSnapshotList({ with_count: 'true' }, member, ApiVersion.parse('3.45')).withCount, true);
  assert.deepEqual(planSnapshotList({ sort: 'name:asc' }, member, ApiVersion.parse('3.30')).query.sort, [{ key: 'display_name', dir: 'asc' }]);
  assert.deepEqual(planSnapshotList({ sort: 'name:asc' }, member, ApiVersion.parse('3.29')).query.sort, [{ key: 'name', dir: 'asc' }]);
});

forEachDatabase('snapshot lists', (db) => {
  test('sort, offset, limit and marker with next links, filters and with_count', async (t) => {
    if (!requireTempestSchemas(t)) return;
    const s = await serviceOn(t, db().name);
    const volume = await createVolume(s);
    const other = await createVolume(s);
    const made = [];
    for (const name of ['b', 'c', 'a']) made.push(await createSnapshot(s, volume.id, { name, metadata: { tier: name === 'a' ? 'gold' : 'iron' } }));
    made.push(await createSnapshot(s, other.id, { name: 'd' }));
    const ids = (res: { body: any }) => res.body.snapshots.map((x: any) => x.name);

    const plain = await s.request('GET', 'snapshots?sort_key=display_name&sort_dir=asc');
    await assertTempestSchema(plain, 'snapshots.list_snapshots_no_detail');
    assert.deepEqual(ids(plain), ['a', 'b', 'c', 'd']);
    assert.deepEqual(ids(await s.request('GET', 'snapshots?sort=name:desc', { version: '3.30' })), ['d', 'c', 'b', 'a']);
    assert.deepEqual(ids(await s.request('GET', 'snapshots')), ['d', 'a', 'c', 'b'], 'newest first by default');
    assert.deepEqual(ids(await s.request('GET', 'snapshots?sort_key=created_at&sort_dir=asc')), ['b', 'c', 'a', 'd']);
    const byId = [...made].sort((x, y) => (x.id < y.id ? -1 : 1)).map((x) => x.name);
    assert.deepEqual(ids(await s.request('GET', 'snapshots?sort_key=id&sort_dir=asc')), byId);
    assertFault(await s.request('GET', 'snapshots?sort_key=invalid'), 400, 'badRequest', 'Invalid input received: Invalid sort key');
    assertFault(await s.request('GET', 'snapshots?sort=name:asc', { version: '3.29' }), 400, 'badRequest', 'Invalid input received: Invalid sort key');
    assertFault(await s.request('GET', 'snapshots?limit=invalid'), 400, 'badRequest', 'limit param must be an integer');
    const unknown = '5f0c7a1e-95c4-4a3c-a1b0-3e9c7c0f2d11';
    assertFault(await s.request('GET', `snapshots?marker=${unknown}`), 404, 'itemNotFound', `Snapshot ${unknown} could not be found.`);

    assert.deepEqual(ids(await s.request('GET', 'snapshots?offset=2&limit=3')), ['c', 'b']);
    const page = await s.request('GET', 'snapshots/detail?limit=2&sort_key=display_name&sort_dir=asc');
    await assertTempestSchema(page, 'snapshots.list_snapshots_with_detail');
    assert.deepEqual(ids(page), ['a', 'b']);
    const next = new URL(page.body.snapshots_links[0].href);
    assert.equal(page.body.snapshots_links[0].rel, 'next');
    assert.equal(next.pathname, `/v3/${s.projectId}/snapshots/detail`);
    assert.equal(next.searchParams.get('marker'), made[0].id);
    const rest = await s.request('GET', `snapshots/detail${next.search}`);
    assert.deepEqual(ids(rest), ['c', 'd']);
    assert.ok(rest.body.snapshots_links, 'a full page has a next link');
    assert.deepEqual(ids(await s.request('GET', `snapshots?limit=2&sort_key=display_name&sort_dir=asc&marker=${made[1].id}`)), ['d']);
    assert.ok(!('snapshots_links' in (await s.request('GET', 'snapshots?limit=5')).body), 'a page short of its limit is the last');

    assert.deepEqual(ids(await s.request('GET', `snapshots?volume_id=${other.id}`)), ['d']);
    assert.deepEqual(ids(await s.request('GET', 'snapshots?name=c')), ['c']);
    assert.deepEqual(ids(await s.request('GET', 'snapshots?metadata=%7B%27tier%27%3A%20%27gold%27%7D', { version: '3.22' })), ['a']);
    assertEmpty(await snapshotAction(s, made[1].id, { 'os-reset_status': { status: 'error' } }), 202);
    assert.deepEqual(ids(await s.request('GET', 'snapshots?status=error')), ['c']);
    assert.deepEqual(ids(await s.request('GET', 'snapshots?name~=c', { version: '3.34' })), ['c']);
    assert.deepEqual(ids(await s.request('GET', 'snapshots?group_snapshot_id=x', { version: '3.34' })), [], 'a column no snapshot has a value in matches none');

    const counted = await s.request('GET', 'snapshots?limit=1&with_count=true', { version: '3.45' });
    assert.equal(counted.body.count, 4);
    assert.deepEqual(ids(counted), ['d']);
    assert.ok(counted.body.snapshots_links);
    assert.equal((await s.request('GET', 'snapshots?with_count=true', { version: '3.44' })).body.count, undefined);

    const summary = (await s.request('GET', 'snapshots', { version: '3.65' })).body.snapshots[0];
    assert.deepEqual(Object.keys(summary).sort(), ['created_at', 'description', 'id', 'metadata', 'name', 'size', 'status', 'updated_at', 'volume_id']);
  });
});
