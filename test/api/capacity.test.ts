// Capacity as a client meets it: a volume no backend has room for ends in error with
// Cinder's user message, one that fits is made, and get_pools shows what the storage
// host reports of the filesystem its volumes live on.
import assert from 'node:assert/strict';
import { statfs } from 'node:fs/promises';
import { join } from 'node:path';
import { test } from 'node:test';
import type { TestService } from '../helpers/service.js';
import { UNLIMITED_QUOTAS } from '../helpers/env.js';
import { assertEmpty, assertFault, createVolume, forEachDatabase, serviceOn } from './support.js';

const GiB = 1024 ** 3;
const MESSAGES = '3.3';

async function createdInError(s: TestService, size: number, extra: Record<string, unknown> = {}): Promise<string> {
  const res = await s.request('POST', 'volumes', { body: { volume: { size, ...extra } } });
  assert.equal(res.status, 202, res.text);
  assert.equal(res.body.volume.status, 'creating');
  const volume = await s.waitForVolume(res.body.volume.id, ['error', 'available']);
  assert.equal(volume.status, 'error', `a ${size} GiB volume was made`);
  return volume.id as string;
}

/** The filesystem the file driver's volumes live on, in GiB as it reports them. */
async function filesystemOf(s: TestService): Promise<{ total: number; free: number }> {
  const fs = await statfs(join(s.config.dataDir, 'volumes'));
  return { total: (fs.blocks * fs.bsize) / GiB, free: (fs.bavail * fs.bsize) / GiB };
}

forEachDatabase('capacity', (db) => {
  test('a volume no backend can hold ends in error, with Cinder\'s user message to read and delete', async (t) => {
    const s = await serviceOn(t, db().name, UNLIMITED_QUOTAS);
    const res = await s.request('POST', 'volumes', { body: { volume: { size: 100_000_000 } } });
    assert.equal(res.status, 202, res.text);
    const requestId = res.headers.get('x-openstack-request-id');
    const volume = await s.waitForVolume(res.body.volume.id, ['error', 'available']);
    assert.equal(volume.status, 'error');
    // No Node error text anywhere a user reads.
    assert.doesNotMatch(JSON.stringify(volume), /out of range|ERR_|RangeError/);

    // Messages are a 3.3 API.
    assertFault(await s.request('GET', 'messages'), 404, 'itemNotFound');
    const list = await s.request('GET', 'messages', { version: MESSAGES });
    assert.equal(list.status, 200, list.text);
    assert.equal(list.body.messages.length, 1, list.text);
    const [message] = list.body.messages;
    const self = `${s.endpoint}/messages/${message.id}`;
    assert.deepEqual(message, {
      id: message.id,
      event_id: 'VOLUME_VOLUME_001_003',
      user_message: 'schedule allocate volume:Could not find any available weighted backend.',
      message_level: 'ERROR',
      created_at: message.created_at,
      guaranteed_until: message.guaranteed_until,
      request_id: requestId,
      links: [
        { rel: 'self', href: self },
        { rel: 'bookmark', href: self.replace('/v3/', '/') },
      ],
      resource_type: 'VOLUME',
      resource_uuid: volume.id,
    });
    assert.match(message.id, /^[0-9a-f-]{36}$/);
    // Kept for Cinder's message_ttl, 30 days.
    const kept = Date.parse(`${message.guaranteed_until}Z`) - Date.parse(`${message.created_at}Z`);
    assert.ok(Math.abs(kept - 30 * 86_400_000) < 5_000, `kept ${kept} ms`);

    const shown = await s.request('GET', `messages/${message.id}`, { version: MESSAGES });
    assert.equal(shown.status, 200, shown.text);
    assert.deepEqual(shown.body, { message });
    // Before 3.5 the list is not paged, so no link may lead to a next page (cinderclient would follow it forever).
    assert.equal(list.body.messages_links, undefined);
    // 3.5 filters and pages the list.
    const paged = await s.request('GET', 'messages?limit=1', { version: '3.5' });
    assert.deepEqual(paged.body.messages_links, [{ rel: 'next', href: `${s.endpoint}/messages?limit=1&marker=${message.id}` }]);
    assert.deepEqual((await s.request('GET', `messages?limit=1&marker=${message.id}`, { version: '3.5' })).body, { messages: [] });
    assert.equal((await s.request('GET', `messages?resource_uuid=${volume.id}`, { version: '3.5' })).body.messages.length, 1);
    assert.deepEqual((await s.request('GET', 'messages?event_id=VOLUME_VOLUME_001_012', { version: '3.5' })).body.messages, []);

    assertEmpty(await s.request('DELETE', `messages/${message.id}`, { version: MESSAGES }), 204);
    assertFault(await s.request('GET', `messages/${message.id}`, { version: MESSAGES }), 404, 'itemNotFound', `Message ${message.id} could not be found.`);
    assertFault(await s.request('DELETE', `messages/${message.id}`, { version: MESSAGES }), 404, 'itemNotFound');
    assert.deepEqual((await s.request('GET', 'messages', { version: MESSAGES })).body.messages, []);
  });

  test('a volume that fits is made and leaves no message', async (t) => {
    const s = await serviceOn(t, db().name, UNLIMITED_QUOTAS);
    const volume = await createVolume(s, { size: 1 });
    assert.equal(volume.size, 1);
    assert.deepEqual((await s.request('GET', 'messages', { version: MESSAGES })).body.messages, []);
  });

  test('the reserve is not given out: a volume that fits without one is refused with all capacity reserved', async (t) => {
    // Thin: (total - floor(total)) * 20 is under 20 GiB, so 20 GiB cannot fit beside a 100% reserve.
    const reserved = await serviceOn(t, db().name, { ...UNLIMITED_QUOTAS, reservedPercentage: 100 });
    await createdInError(reserved, 20);
    const open = await serviceOn(t, db().name, { ...UNLIMITED_QUOTAS, reservedPercentage: 0 });
    await createVolume(open, { size: 20 });
  });

  test('a thick volume type is held to free space, a thin one to the over-subscribed total', async (t) => {
    const s = await serviceOn(t, db().name, UNLIMITED_QUOTAS);
    const type = await s.request('POST', 'types', { body: { volume_type: { name: 'thick', extra_specs: { 'provisioning:type': 'thick' } } } });
    assert.equal(type.status, 200, type.text);
    const { total, free } = await filesystemOf(s);
    // More than is free, far less than twenty times the total.
    const size = Math.ceil(free) + 2;
    assert.ok(size * 2 < total * 20, 'the filesystem is not nearly full');
    await createdInError(s, size, { volume_type: 'thick' });
    const thin = await createVolume(s, { size });
    assertEmpty(await s.request('DELETE', `volumes/${thin.id}`), 202);
  });

  test('a volume type naming a backend gets that backend, with or without the capabilities: prefix', async (t) => {
    const s = await serviceOn(t, db().name, { ...UNLIMITED_QUOTAS, host: 'store', volumeBackendName: 'gold' });
    for (const [name, key] of [['named', 'volume_backend_name'], ['prefixed', 'capabilities:volume_backend_name']] as const) {
      assert.equal((await s.request('POST', 'types', { body: { volume_type: { name, extra_specs: { [key]: 'gold' } } } })).status, 200);
      const volume = await createVolume(s, { volume_type: name });
      assert.equal((await s.request('GET', `volumes/${volume.id}`)).body.volume['os-vol-host-attr:host'], 'store@gold#gold');
    }
    assert.equal((await s.request('POST', 'types', { body: { volume_type: { name: 'silver', extra_specs: { volume_backend_name: 'silver' } } } })).status, 200);
    await createdInError(s, 1, { volume_type: 'silver' });
  });

  test('get_pools: the pool by name, and with detail the capacity its storage host reports', async (t) => {
    const s = await serviceOn(t, db().name, { ...UNLIMITED_QUOTAS, reportInterval: 0.1, maxOverSubscriptionRatio: 2.5, reservedPercentage: 5 });
    const name = `${s.config.host}@file#file`;
    const plain = await s.request('GET', 'scheduler-stats/get_pools');
    assert.equal(plain.status, 200, plain.text);
    assert.deepEqual(plain.body, { pools: [{ name }] });
    assert.deepEqual((await s.request('GET', 'scheduler-stats/get_pools?detail=false')).body, { pools: [{ name }] });
    assertFault(await s.request('GET', 'scheduler-stats/get_pools?detail=maybe'), 400, 'badRequest');

    await createVolume(s, { size: 3 });
    await createVolume(s, { size: 2 });
    // The next heartbeat carries the new volumes; a loaded machine may take seconds to send it.
    // One taken while the second volume was still being made counts its row but not its file.
    let detail;
    for (let i = 0; i < 500; i++) {
      detail = await s.request('GET', 'scheduler-stats/get_pools?detail=true');
      const reported = detail.body.pools[0].capabilities;
      if (reported.allocated_capacity_gb === 5 && reported.provisioned_capacity_gb === 5) break;
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    assert.equal(detail!.status, 200, detail!.text);
    const [pool] = detail!.body.pools;
    assert.equal(pool.name, name);
    const { total, free } = await filesystemOf(s);
    const caps = pool.capabilities;
    assert.equal(caps.total_capacity_gb, Math.round(total * 100) / 100);
    assert.ok(Math.abs(caps.free_capacity_gb - free) < 1, `free ${caps.free_capacity_gb} GiB, the filesystem has ${free}`);
    assert.match(caps.timestamp, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}$/);
    assert.deepEqual(
      { ...caps, total_capacity_gb: 0, free_capacity_gb: 0, timestamp: '' },
      {
        total_capacity_gb: 0,
        free_capacity_gb: 0,
        provisioned_capacity_gb: 5,
        allocated_capacity_gb: 5,
        thin_provisioning_support: true,
        thick_provisioning_support: false,
        max_over_subscription_ratio: 2.5,
        reserved_percentage: 5,
        total_volumes: 2,
        vendor_name: 'Cinderblock',
        driver_version: '1.0.0',
        storage_protocol: 'iSCSI',
        pool_name: 'file',
        volume_backend_name: 'file',
        QoS_support: false,
        multiattach: true,
        backend_state: 'up',
        timestamp: '',
      },
    );
    // 3.28 filters by name.
    assert.deepEqual((await s.request('GET', 'scheduler-stats/get_pools?name=other@file%23file', { version: '3.28' })).body, { pools: [] });
    assert.deepEqual((await s.request('GET', `scheduler-stats/get_pools?name=${encodeURIComponent(name)}`, { version: '3.28' })).body, { pools: [{ name }] });

    // A disabled host is no pool to place in.
    const disabled = await s.request('PUT', 'os-services/disable', { body: { host: `${s.config.host}@file`, binary: 'cinder-volume' } });
    assert.equal(disabled.status, 200, disabled.text);
    assert.deepEqual((await s.request('GET', 'scheduler-stats/get_pools')).body, { pools: [] });
  });
});
