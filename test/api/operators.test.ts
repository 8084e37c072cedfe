// What operators read about a deployment: os-hosts, backend capabilities and the extension
// list, answered as Cinder 21 answers them and in the shape tempest holds Cinder's answers to.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { openDatabase } from '../../src/db/index.js';
import { nowTimestamp } from '../../src/db/schema.js';
import type { TestService } from '../helpers/service.js';
import { assertTempestSchema, requireTempestSchemas } from '../helpers/tempest-schema.js';
import { assertFault, createVolume, forEachDatabase, serviceOn } from './support.js';

/** A service row as another host's heartbeat would have written it, `ageMs` ago. */
async function addService(s: TestService, row: { binary: string; host: string; ageMs?: number; capabilities?: object; zone?: string }): Promise<void> {
  const handle = await openDatabase(s.config.database, { migrate: false });
  try {
    const updated = new Date(Date.now() - (row.ageMs ?? 0)).toISOString().replace('Z', '000');
    await handle.db
      .insertInto('services')
      .values({
        binary: row.binary,
        host: row.host,
        availability_zone: row.zone ?? 'nova',
        created_at: nowTimestamp(),
        updated_at: updated,
        capabilities: row.capabilities ? JSON.stringify(row.capabilities) : null,
      })
      .execute();
  } finally {
    await handle.close();
  }
}

forEachDatabase('os-hosts', (db) => {
  test('the list: every enabled service, the scheduler and the storage host; by zone when asked', async (t) => {
    const s = await serviceOn(t, db().name);
    const host = s.config.host;
    const res = await s.request('GET', 'os-hosts');
    assert.equal(res.status, 200, res.text);
    assert.deepEqual(
      res.body.hosts.map((h: any) => [h.host_name, h.service, h.zone, h['service-status'], h['service-state']]),
      [
        [host, 'cinder-scheduler', 'nova', 'available', 'enabled'],
        [`${host}@file`, 'cinder-volume', 'nova', 'available', 'enabled'],
      ],
    );
    assert.match(res.body.hosts[0]['last-update'], /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}$/);
    if (requireTempestSchemas(t)) await assertTempestSchema(res, 'hosts.list_hosts');

    await addService(s, { binary: 'cinder-volume', host: 'far@file', zone: 'elsewhere', ageMs: 120_000 });
    // Repeated, the last one counts, as webob reads it.
    const far = await s.request('GET', 'os-hosts?zone=nova&zone=elsewhere');
    assert.deepEqual(far.body.hosts.map((h: any) => [h.host_name, h['service-status']]), [['far@file', 'unavailable']]);

    // A disabled service is not listed at all.
    assert.equal((await s.request('PUT', 'os-services/disable', { body: { host: `${host}@file`, binary: 'cinder-volume' } })).status, 200);
    assert.deepEqual((await s.request('GET', 'os-hosts?zone=nova')).body.hosts.map((h: any) => h.service), ['cinder-scheduler']);
  });

  test('show: the volumes and snapshots on a storage host, in total and by project', async (t) => {
    const s = await serviceOn(t, db().name);
    const host = `${s.config.host}@file`;
    const empty = await s.request('GET', `os-hosts/${host}`);
    assert.equal(empty.status, 200, empty.text);
    const zero = { host, project: '(total)', volume_count: '0', total_volume_gb: '0', snapshot_count: '0', total_snapshot_gb: '0' };
    assert.deepEqual(empty.body, { host: [{ resource: zero }] });

    const volume = await createVolume(s, { size: 2 });
    await s.waitForVolume(volume.id, ['available']);
    await createVolume(s, { size: 3 }).then((v) => s.waitForVolume(v.id, ['available']));
    const snapshot = await s.request('POST', 'snapshots', { body: { snapshot: { volume_id: volume.id } } });
    assert.equal(snapshot.status, 202, snapshot.text);

    const shown = await s.request('GET', `os-hosts/${host}`);
    assert.equal(shown.status, 200, shown.text);
    const usage = { volume_count: '2', total_volume_gb: '5', snapshot_count: '1', total_snapshot_gb: '2' };
    assert.deepEqual(shown.body, { host: [{ resource: { host, project: '(total)', ...usage } }, { resource: { host, project: s.projectId, ...usage } }] });
    if (requireTempestSchemas(t)) await assertTempestSchema(shown, 'hosts.show_host');

    // The bare host name finds its backend, which the answer names as asked.
    const bare = await s.request('GET', `os-hosts/${s.config.host}`);
    assert.equal(bare.body.host[0].resource.host, s.config.host);
    assert.equal(bare.body.host[0].resource.volume_count, '2');

    assertFault(await s.request('GET', 'os-hosts/nowhere@file'), 404, 'itemNotFound', 'Service cinder-volume could not be found on host nowhere@file.');
    await s.request('PUT', 'os-services/disable', { body: { host, binary: 'cinder-volume' } });
    assertFault(await s.request('GET', `os-hosts/${host}`), 404, 'itemNotFound', `Service cinder-volume could not be found on host ${host}.`);
  });
});

forEachDatabase('backend capabilities', (db) => {
  test("what the backend reported, in Cinder's summary, by host@backend or by host", async (t) => {
    const s = await serviceOn(t, db().name);
    const host = `${s.config.host}@file`;
    const res = await s.request('GET', `capabilities/${host}`);
    assert.equal(res.status, 200, res.text);
    const boolean = (title: string, description: string) => ({ title, description, type: 'boolean' });
    assert.deepEqual(res.body, {
      namespace: `OS::Storage::Capabilities::${host}`,
      vendor_name: 'Cinderblock',
      volume_backend_name: 'file',
      pool_name: 'file',
      driver_version: res.body.driver_version,
      storage_protocol: 'iSCSI',
      display_name: null,
      description: null,
      visibility: null,
      replication_targets: [],
      properties: {
        thin_provisioning: boolean('Thin Provisioning', 'Sets thin provisioning.'),
        compression: boolean('Compression', 'Enables compression.'),
        qos: boolean('QoS', 'Enables QoS.'),
        replication_enabled: boolean('Replication', 'Enables replication.'),
      },
    });
    assert.match(res.body.driver_version, /^\d+\.\d+\.\d+/);
    if (requireTempestSchemas(t)) await assertTempestSchema(res, 'capabilities.show_backend_capabilities');

    // The same three values get_pools shows, which tempest compares.
    const pools = await s.request('GET', 'scheduler-stats/get_pools?detail=true');
    const [pool] = pools.body.pools;
    assert.deepEqual([pool.capabilities.vendor_name, pool.capabilities.volume_backend_name, pool.capabilities.storage_protocol], ['Cinderblock', 'file', 'iSCSI']);
    assert.equal((await s.request('GET', `capabilities/${s.config.host}`)).body.namespace, `OS::Storage::Capabilities::${host}`);

    assertFault(await s.request('GET', 'capabilities/nowhere'), 404, 'itemNotFound', "Can't find service: nowhere");
    // The scheduler has no backend to describe.
    await addService(s, { binary: 'cinder-scheduler', host: 'sched-only' });
    assertFault(await s.request('GET', 'capabilities/sched-only'), 404, 'itemNotFound', "Can't find service: sched-only");
    // A storage host that stopped reporting does not answer.
    await addService(s, { binary: 'cinder-volume', host: 'gone@file', ageMs: 120_000, capabilities: { vendor_name: 'Cinderblock' } });
    assertFault(await s.request('GET', 'capabilities/gone@file'), 502, 'computeFault', 'Timeout while requesting capabilities from backend gone@file.');
  });
});

forEachDatabase('extensions', (db) => {
  test("Cinder's list, each by its alias", async (t) => {
    const s = await serviceOn(t, db().name);
    const res = await s.request('GET', 'extensions');
    assert.equal(res.status, 200, res.text);
    assert.equal(res.body.extensions.length, 32);
    const hosts = res.body.extensions.find((e: any) => e.name === 'Hosts');
    assert.deepEqual(hosts, { name: 'Hosts', alias: 'os-hosts', description: 'Admin-only host administration.', updated: '2011-06-29T00:00:00+00:00', links: [] });
    if (requireTempestSchemas(t)) await assertTempestSchema(res, 'extensions.list_extensions');

    const shown = await s.request('GET', 'extensions/capabilities');
    assert.equal(shown.status, 200, shown.text);
    assert.deepEqual(shown.body.extension.name, 'Capabilities');
    assertFault(await s.request('GET', 'extensions/os-nothing'), 404, 'itemNotFound', 'The resource could not be found.');
  });
});

forEachDatabase('operator routes in the shape of tempest schemas', (db) => {
  test('services, pools, messages, quotas, quota classes, limits and versions', async (t) => {
    if (!requireTempestSchemas(t)) return;
    const s = await serviceOn(t, db().name);
    await assertTempestSchema(await s.request('GET', 'os-services'), 'services.list_services');
    await assertTempestSchema(await s.request('GET', 'os-services', { version: '3.7' }), 'v3_7.services.list_services');
    await assertTempestSchema(await s.request('GET', 'os-services', { version: '3.49' }), 'v3_7.services.list_services');
    const host = `${s.config.host}@file`;
    await assertTempestSchema(await s.request('PUT', 'os-services/disable', { body: { host, binary: 'cinder-volume' } }), 'services.disable_service');
    await assertTempestSchema(
      await s.request('PUT', 'os-services/disable-log-reason', { body: { host, binary: 'cinder-volume', disabled_reason: 'maintenance' } }),
      'services.disable_log_reason',
    );
    await assertTempestSchema(await s.request('GET', 'scheduler-stats/get_pools'), 'scheduler_stats.get_pools_no_detail');
    await assertTempestSchema(await s.request('GET', 'scheduler-stats/get_pools?detail=true'), 'scheduler_stats.get_pools_with_detail');
    await assertTempestSchema(await s.request('GET', `os-quota-sets/${s.projectId}`), 'quotas.show_quota_set');
    await assertTempestSchema(await s.request('GET', `os-quota-sets/${s.projectId}?usage=true`), 'quotas.show_quota_set_usage');
    await assertTempestSchema(await s.request('GET', `os-quota-sets/${s.projectId}/defaults`), 'quotas.show_quota_set');
    await assertTempestSchema(await s.request('PUT', `os-quota-sets/${s.projectId}`, { body: { quota_set: { volumes: 20 } } }), 'quotas.update_quota_set');
    await assertTempestSchema(await s.request('DELETE', `os-quota-sets/${s.projectId}`), 'quotas.delete_quota_set');
    await assertTempestSchema(await s.request('PUT', 'os-quota-class-sets/default', { body: { quota_class_set: { volumes: 12 } } }), 'quota_classes.update_quota_classes');
    await assertTempestSchema(await s.request('GET', 'os-quota-class-sets/default'), 'quota_classes.show_quota_classes');
    // Cinder's enable answers without disabled_reason, which tempest's schema requires; Cinder is followed.
    const enabled = await s.request('PUT', 'os-services/enable', { body: { host, binary: 'cinder-volume' } });
    await assertTempestSchema(enabled, 'services.disable_service');
    await assert.rejects(assertTempestSchema(enabled, 'services.enable_service'), /'disabled_reason' is a required property/);
    await assertTempestSchema(await s.request('GET', 'limits'), 'limits.show_limits');
    await assertTempestSchema(await s.request('GET', '/'), 'versions.list_versions');
    await assertTempestSchema(await s.request('GET', '/v3/'), 'versions.volume_api_version_details');
  });
});

forEachDatabase('scheduling by capabilities', (db) => {
  test("a type whose extra specs no backend satisfies ends in error with the scheduler's user message", async (t) => {
    const s = await serviceOn(t, db().name);
    const typeWith = async (name: string, extra_specs: Record<string, string>) => {
      const res = await s.request('POST', 'types', { body: { volume_type: { name, extra_specs } } });
      assert.equal(res.status, 200, res.text);
      return res.body.volume_type.id as string;
    };
    const bogus = await typeWith('bogus', { storage_protocol: 'storage_protocol-x', vendor_name: 'vendor_name-x' });
    const created = (await s.request('POST', 'volumes', { body: { volume: { size: 1, volume_type: bogus } } })).body.volume;
    const failed = await s.waitForVolume(created.id, ['error', 'available']);
    assert.equal(failed.status, 'error');
    const messages = await s.request('GET', 'messages', { version: '3.3' });
    const [message] = messages.body.messages.filter((m: any) => m.resource_uuid === created.id);
    assert.equal(message.user_message, 'schedule allocate volume:Could not find any available weighted backend.');
    if (requireTempestSchemas(t)) {
      await assertTempestSchema(messages, 'messages.list_messages');
      await assertTempestSchema(await s.request('GET', `messages/${message.id}`, { version: '3.3' }), 'messages.show_message');
      await assertTempestSchema(await s.request('DELETE', `messages/${message.id}`, { version: '3.3' }), 'messages.delete_message');
    }

    // What the backend does report is satisfied, under any spelling of its protocol.
    const fitting = await typeWith('fitting', { storage_protocol: 'iscsi', vendor_name: 'Cinderblock', 'capabilities:multiattach': '<is> True', 'acme:tier': 'gold' });
    assert.equal((await createVolume(s, { size: 1, volume_type: fitting })).volume_type, 'fitting');
  });
});
