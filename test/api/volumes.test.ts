import assert from 'node:assert/strict';
import { test } from 'node:test';
import { assertEmpty, assertFault, createVolume, forEachDatabase, serviceOn, action, SERVER_ID } from './support.js';

const NAIVE_UTC = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{6}$/;

forEachDatabase('volumes API', (db) => {
  test('create answers 202 with the detail view in creating, then the volume becomes available', async (t) => {
    const s = await serviceOn(t, db().name);
    // cinderclient's own create body, nulls included.
    const res = await s.request('POST', 'volumes', {
      body: {
        volume: {
          size: 1,
          consistencygroup_id: null,
          snapshot_id: null,
          name: 'capvol',
          description: null,
          volume_type: null,
          availability_zone: null,
          metadata: {},
          imageRef: null,
          source_volid: null,
          backup_id: null,
        },
      },
      version: '3.70',
    });
    assert.equal(res.status, 202, res.text);
    const created = res.body.volume;
    assert.equal(created.status, 'creating');
    assert.equal(created.name, 'capvol');
    assert.match(created.created_at, NAIVE_UTC);
    const v = await s.waitForVolume(created.id, ['available']);
    assert.equal(v.size, 1);
  });

  test('the detail view has every field of its microversion', async (t) => {
    const s = await serviceOn(t, db().name);
    const v = await createVolume(s, { name: 'v', description: 'd', metadata: { k: 'v' } });
    const base = [
      'id', 'status', 'size', 'availability_zone', 'created_at', 'updated_at', 'name', 'description', 'volume_type',
      'snapshot_id', 'source_volid', 'metadata', 'links', 'user_id', 'bootable', 'encrypted', 'replication_status',
      'consistencygroup_id', 'multiattach', 'attachments', 'migration_status', 'os-vol-tenant-attr:tenant_id',
      'os-vol-host-attr:host', 'os-vol-mig-status-attr:migstat', 'os-vol-mig-status-attr:name_id',
    ];
    assert.deepEqual(new Set(Object.keys(v)), new Set(base));
    assert.equal(v.bootable, 'false');
    assert.equal(v.encrypted, false);
    assert.equal(v.multiattach, false);
    assert.equal(v.volume_type, '__DEFAULT__');
    assert.deepEqual(v.metadata, { k: 'v' });
    assert.deepEqual(v.attachments, []);
    assert.match(v.updated_at, NAIVE_UTC);

    const latest = (await s.request('GET', `volumes/${v.id}`, { version: '3.70' })).body.volume;
    const added = ['group_id', 'provider_id', 'shared_targets', 'service_uuid', 'cluster_name', 'volume_type_id', 'consumes_quota'];
    assert.deepEqual(new Set(Object.keys(latest)), new Set([...base, ...added]));
    assert.equal(typeof latest.shared_targets, 'boolean');
    assert.equal(latest.consumes_quota, true);
    const at348 = (await s.request('GET', `volumes/${v.id}`, { version: '3.48' })).body.volume;
    assert.ok('shared_targets' in at348 && 'service_uuid' in at348 && !('volume_type_id' in at348));
  });

  test('create refuses what Cinder refuses', async (t) => {
    const s = await serviceOn(t, db().name);
    assertFault(
      await s.request('POST', 'volumes', { body: { volume: { size: 1, multiattach: true } } }),
      400,
      'badRequest',
      /^multiattach parameter has been removed\. The default behavior is to use multiattach enabled volume types\./,
    );
    assertFault(
      await s.request('POST', 'volumes', { body: { volume: { size: 0 } } }),
      400,
      'badRequest',
      'Invalid input for field/attribute size. Value: 0. 0 is less than the minimum of 1',
    );
    assertFault(
      await s.request('POST', 'volumes', { body: { volume: { size: 'big' } } }),
      400,
      'badRequest',
      "Invalid input for field/attribute size. Value: big. 'big' does not match '^[0-9]+$'",
    );
    assertFault(
      await s.request('POST', 'volumes', { body: { volume: { name: 'nosize' } } }),
      400,
      'badRequest',
      "Invalid input received: Volume size 'None' must be an integer and greater than 0",
    );
    assertFault(await s.request('POST', 'volumes', { body: { size: 1 } }), 400, 'badRequest', /'volume' is a required property/);
    // Unknown keys inside "volume" are ignored before 3.53 and refused from it.
    assert.equal((await s.request('POST', 'volumes', { body: { volume: { size: 1, foo: 1 } }, version: '3.52' })).status, 202);
    assertFault(
      await s.request('POST', 'volumes', { body: { volume: { size: 1, foo: 1 } }, version: '3.53' }),
      400,
      'badRequest',
      "Invalid input for field/attribute volume. Value: {'size': 1, 'foo': 1}. Additional properties are not allowed ('foo' was unexpected)",
    );
    assertFault(
      await s.request('POST', 'volumes', { body: { volume: { size: 1, volume_type: 'nosuchtype' } } }),
      404,
      'itemNotFound',
    );
    assertFault(
      await s.request('POST', 'volumes', { body: { volume: { size: 1, imageRef: '0a6e6e54-3cd4-4d5b-95c1-d3cd63a6c9f2' } } }),
      404,
      'itemNotFound',
      'Image 0a6e6e54-3cd4-4d5b-95c1-d3cd63a6c9f2 could not be found.',
    );
  });

  test('show of an unknown volume is 404 itemNotFound', async (t) => {
    const s = await serviceOn(t, db().name);
    const id = '0a6e6e54-3cd4-4d5b-95c1-d3cd63a6c9f2';
    assertFault(await s.request('GET', `volumes/${id}`), 404, 'itemNotFound', `Volume ${id} could not be found.`);
    assertFault(await s.request('DELETE', `volumes/${id}`), 404, 'itemNotFound', `Volume ${id} could not be found.`);
    assertFault(await s.request('PUT', `volumes/${id}`, { body: { volume: { name: 'x' } } }), 404, 'itemNotFound');
  });

  test('list and detail: summaries, filters, sort, limit/marker with next links, with_count', async (t) => {
    const s = await serviceOn(t, db().name);
    const a = await createVolume(s, { name: 'alpha', size: 1, metadata: { tier: 'gold' } });
    const b = await createVolume(s, { name: 'beta', size: 2 });
    const c = await createVolume(s, { name: 'gamma', size: 3, metadata: { tier: 'gold' } });

    const summary = await s.request('GET', 'volumes');
    assert.deepEqual(Object.keys(summary.body.volumes[0]).sort(), ['id', 'links', 'name']);
    // Newest first by default.
    assert.deepEqual(summary.body.volumes.map((v: any) => v.id), [c.id, b.id, a.id]);
    assert.equal(summary.body.volumes_links, undefined);

    const detail = await s.request('GET', 'volumes/detail?sort=name:asc');
    assert.deepEqual(detail.body.volumes.map((v: any) => v.name), ['alpha', 'beta', 'gamma']);
    assert.ok('os-vol-host-attr:host' in detail.body.volumes[0]);
    const legacySort = await s.request('GET', 'volumes?sort_key=size&sort_dir=asc');
    assert.deepEqual(legacySort.body.volumes.map((v: any) => v.id), [a.id, b.id, c.id]);

    const byName = await s.request('GET', 'volumes/detail?all_tenants=1&name=beta');
    assert.deepEqual(byName.body.volumes.map((v: any) => v.id), [b.id]);
    const bySize = await s.request('GET', 'volumes?size=3');
    assert.deepEqual(bySize.body.volumes.map((v: any) => v.id), [c.id]);
    // cinderclient sends metadata as a Python dict literal.
    const byMeta = await s.request('GET', `volumes?metadata=${encodeURIComponent("{'tier': 'gold'}")}&sort=name:asc`);
    assert.deepEqual(byMeta.body.volumes.map((v: any) => v.id), [a.id, c.id]);
    const byStatus = await s.request('GET', 'volumes?status=available');
    assert.equal(byStatus.body.volumes.length, 3);
    // An administrator's unknown filter names no column: nothing matches.
    assert.deepEqual((await s.request('GET', 'volumes?status=available&bogus=1')).body, { volumes: [] });
    // "like" filters from 3.34; before that "name~" is just unknown.
    assert.deepEqual((await s.request('GET', 'volumes?name~=amm', { version: '3.34' })).body.volumes.map((v: any) => v.id), [c.id]);
    assert.deepEqual((await s.request('GET', 'volumes?name~=amm', { version: '3.33' })).body.volumes, []);

    const page1 = await s.request('GET', 'volumes/detail?limit=2&sort=name:asc');
    assert.deepEqual(page1.body.volumes.map((v: any) => v.name), ['alpha', 'beta']);
    const next = new URL(page1.body.volumes_links[0].href);
    assert.equal(page1.body.volumes_links[0].rel, 'next');
    assert.equal(next.pathname, `/v3/${s.projectId}/volumes/detail`);
    assert.equal(next.searchParams.get('marker'), b.id);
    assert.equal(next.searchParams.get('limit'), '2');
    const page2 = await s.request('GET', `${next.pathname}${next.search}`);
    assert.deepEqual(page2.body.volumes.map((v: any) => v.name), ['gamma']);
    assert.equal(page2.body.volumes_links, undefined);

    const counted = await s.request('GET', 'volumes?limit=1&with_count=true', { version: '3.45' });
    assert.equal(counted.body.count, 3);
    assert.equal(counted.body.volumes.length, 1);
    assert.equal((await s.request('GET', 'volumes?with_count=true', { version: '3.44' })).body.count, undefined);

    assertFault(await s.request('GET', 'volumes?limit=abc'), 400, 'badRequest', 'limit param must be an integer');
    assertFault(await s.request('GET', 'volumes?limit=-1'), 400, 'badRequest', 'limit param must be positive');
    assertFault(
      await s.request('GET', 'volumes?sort=name&sort_key=size'),
      400,
      'badRequest',
      "The 'sort_key' and 'sort_dir' parameters are deprecated and cannot be used with the 'sort' parameter.",
    );
    assertFault(
      await s.request('GET', 'volumes?sort=name:sideways'),
      400,
      'badRequest',
      "Invalid input received: Unknown sort direction, must be 'desc' or 'asc'",
    );
    assertFault(await s.request('GET', 'volumes?marker=0a6e6e54-3cd4-4d5b-95c1-d3cd63a6c9f2'), 404, 'itemNotFound');
    assertFault(await s.request('GET', 'volumes?with_count=maybe', { version: '3.45' }), 400, 'badRequest');
  });

  test('time comparison filters from 3.60', async (t) => {
    const s = await serviceOn(t, db().name);
    const v = await createVolume(s);
    const past = '2000-01-01T00:00:00';
    const ids = async (q: string) => (await s.request('GET', `volumes?${q}`, { version: '3.60' })).body.volumes.map((x: any) => x.id);
    assert.deepEqual(await ids(`created_at=gt:${past}`), [v.id]);
    assert.deepEqual(await ids(`created_at=lt:${past}`), []);
    assertFault(await s.request('GET', `volumes?created_at=after:${past}`, { version: '3.60' }), 400, 'badRequest', 'Invalid after operator');
  });

  test('summary (3.12) totals the project, with metadata from 3.36', async (t) => {
    const s = await serviceOn(t, db().name);
    await createVolume(s, { size: 1, metadata: { tier: 'gold' } });
    await createVolume(s, { size: 2, metadata: { tier: 'silver' } });
    const old = await s.request('GET', 'volumes/summary', { version: '3.12' });
    assert.deepEqual(old.body, { 'volume-summary': { total_count: 2, total_size: 3 } });
    const res = await s.request('GET', 'volumes/summary', { version: '3.36' });
    assert.equal(res.body['volume-summary'].total_size, 3);
    assert.deepEqual(res.body['volume-summary'].metadata.tier.sort(), ['gold', 'silver']);
  });

  test('update answers 200 with the new view; from 3.53 an empty update is refused', async (t) => {
    const s = await serviceOn(t, db().name);
    const v = await createVolume(s, { name: 'before' });
    const res = await s.request('PUT', `volumes/${v.id}`, { body: { volume: { name: 'after', description: 'new', metadata: { a: 'b' } } } });
    assert.equal(res.status, 200, res.text);
    assert.equal(res.body.volume.name, 'after');
    assert.equal(res.body.volume.description, 'new');
    assert.deepEqual(res.body.volume.metadata, { a: 'b' });
    const legacy = await s.request('PUT', `volumes/${v.id}`, { body: { volume: { display_name: 'legacy' } } });
    assert.equal(legacy.body.volume.name, 'legacy');
    assertFault(
      await s.request('PUT', `volumes/${v.id}`, { body: { volume: {} }, version: '3.53' }),
      400,
      'badRequest',
      'Invalid input for field/attribute volume. Value: {}. {} does not have enough properties',
    );
    assertFault(
      await s.request('PUT', `volumes/${v.id}`, { body: { volume: { size: 5 } }, version: '3.53' }),
      400,
      'badRequest',
      /Additional properties are not allowed \('size' was unexpected\)/,
    );
  });

  test('delete answers 202 with an empty text/html body; an attached volume cannot be deleted', async (t) => {
    const s = await serviceOn(t, db().name);
    const v = await createVolume(s);
    assert.equal((await action(s, v.id, { 'os-attach': { mountpoint: '/dev/vdb', instance_uuid: SERVER_ID } })).status, 202);
    assertFault(
      await s.request('DELETE', `volumes/${v.id}`),
      400,
      'badRequest',
      /^Invalid volume: Volume status must be available or error or error_restoring or error_extending or error_managing and must not be migrating, attached/,
    );
    assert.equal((await action(s, v.id, { 'os-detach': null })).status, 202);
    const res = await s.request('DELETE', `volumes/${v.id}`);
    assertEmpty(res, 202);
    assert.equal(res.headers.get('content-type'), 'text/html; charset=UTF-8');
    const deadline = Date.now() + 10_000;
    while ((await s.request('GET', `volumes/${v.id}`)).status !== 404) {
      assert.ok(Date.now() < deadline, 'volume was not deleted');
      await new Promise((r) => setTimeout(r, 20));
    }
  });

  test('metadata routes', async (t) => {
    const s = await serviceOn(t, db().name);
    const v = await createVolume(s, { metadata: { a: '1' } });
    assert.deepEqual((await s.request('GET', `volumes/${v.id}/metadata`)).body, { metadata: { a: '1' } });
    const merged = await s.request('POST', `volumes/${v.id}/metadata`, { body: { metadata: { b: '2' } } });
    assert.deepEqual(merged.body, { metadata: { a: '1', b: '2' } });
    const replaced = await s.request('PUT', `volumes/${v.id}/metadata`, { body: { metadata: { c: '3' } } });
    assert.deepEqual(replaced.body, { metadata: { c: '3' } });
    assert.deepEqual((await s.request('GET', `volumes/${v.id}/metadata/c`)).body, { meta: { c: '3' } });
    assert.deepEqual((await s.request('PUT', `volumes/${v.id}/metadata/d`, { body: { meta: { d: '4' } } })).body, { meta: { d: '4' } });
    assertFault(
      await s.request('PUT', `volumes/${v.id}/metadata/e`, { body: { meta: { d: '4' } } }),
      400,
      'badRequest',
      'Request body and URI mismatch',
    );
    assertEmpty(await s.request('DELETE', `volumes/${v.id}/metadata/d`), 200);
    assertFault(await s.request('GET', `volumes/${v.id}/metadata/d`), 404, 'itemNotFound', 'Metadata item was not found');
    assertFault(
      await s.request('POST', `volumes/${v.id}/metadata`, { body: { metadata: { k: 1 } } }),
      400,
      'badRequest',
      "Invalid input for field/attribute k. Value: 1. 1 is not of type 'string'",
    );
  });
});
