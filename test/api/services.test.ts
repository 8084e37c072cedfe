import assert from 'node:assert/strict';
import { test } from 'node:test';
import { openDatabase } from '../../src/db/index.js';
import { nowTimestamp } from '../../src/db/schema.js';
import { assertTempestSchema, requireTempestSchemas } from '../helpers/tempest-schema.js';
import { assertEmpty, assertFault, createVolume, forEachDatabase, serviceOn } from './support.js';

const delay = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

forEachDatabase('os-services', (db) => {
  test('the storage host reports in: up while its heartbeat is recent, down once it is not', async (t) => {
    const s = await serviceOn(t, db().name, { reportInterval: 0.1 });
    const host = `${s.config.host}@file`;

    const first = await s.request('GET', 'os-services?binary=cinder-volume');
    assert.equal(first.status, 200, first.text);
    assert.deepEqual(first.body.services, [
      {
        binary: 'cinder-volume',
        host,
        zone: 'nova',
        status: 'enabled',
        state: 'up',
        updated_at: first.body.services[0].updated_at,
        disabled_reason: null,
        replication_status: 'disabled',
        active_backend_id: null,
        frozen: false,
      },
    ]);
    assert.match(first.body.services[0].updated_at, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}$/);

    // The process that places volumes is the scheduler, reporting in on its host.
    const scheduler = (await s.request('GET', 'os-services?binary=cinder-scheduler')).body.services;
    assert.deepEqual(scheduler, [
      { binary: 'cinder-scheduler', host: s.config.host, zone: 'nova', status: 'enabled', state: 'up', updated_at: scheduler[0].updated_at, disabled_reason: null },
    ]);

    // The heartbeat goes on at report_interval.
    await delay(400);
    const later = await s.request('GET', 'os-services?binary=cinder-volume');
    assert.ok(later.body.services[0].updated_at > first.body.services[0].updated_at, 'updated_at advances with each heartbeat');

    // A storage host that stopped reporting two minutes ago (beyond service_down_time).
    const handle = await openDatabase(s.config.database, { migrate: false });
    try {
      const stale = new Date(Date.now() - 120_000).toISOString().replace('Z', '000');
      await handle.db
        .insertInto('services')
        .values({ binary: 'cinder-volume', host: 'gone@file', availability_zone: 'nova', created_at: nowTimestamp(), updated_at: stale })
        .execute();
    } finally {
      await handle.close();
    }
    const both = await s.request('GET', 'os-services?binary=cinder-volume');
    const states = Object.fromEntries(both.body.services.map((x: any) => [x.host, x.state]));
    assert.deepEqual(states, { 'gone@file': 'down', [host]: 'up' });
  });

  test('filters by host and binary; fields by microversion (cluster at 3.7, backend_state at 3.49)', async (t) => {
    const s = await serviceOn(t, db().name);
    const host = `${s.config.host}@file`;
    const hostsOf = async (query: string) => (await s.request('GET', `os-services?${query}`)).body.services.map((x: any) => [x.binary, x.host]);
    assert.deepEqual(await hostsOf(`host=${encodeURIComponent(host)}`), [['cinder-volume', host]]);
    // A bare host name is every service on it, as in Cinder (tempest compares the part before '@').
    assert.deepEqual(await hostsOf(`host=${s.config.host}`), [['cinder-scheduler', s.config.host], ['cinder-volume', host]]);
    assert.deepEqual(await hostsOf(`host=${encodeURIComponent(`${host}#file`)}`), []);
    assert.deepEqual(await hostsOf(`host=${s.config.host.slice(0, -1)}`), []);
    assert.deepEqual(await hostsOf(`host=${s.config.host.slice(0, -1)}_`), []);
    assert.deepEqual(await hostsOf('host=elsewhere@file'), []);
    assert.deepEqual(await hostsOf(`host=${s.config.host}&binary=cinder-volume`), [['cinder-volume', host]]);
    assert.deepEqual(await hostsOf('binary=cinder-backup'), []);

    const at = async (version: string) => (await s.request('GET', 'os-services?binary=cinder-volume', { version })).body.services[0];
    const v30 = await at('3.0');
    assert.ok(!('cluster' in v30) && !('backend_state' in v30));
    const v37 = await at('3.7');
    assert.equal(v37.cluster, null);
    assert.ok(!('backend_state' in v37));
    const v349 = await at('3.49');
    assert.equal(v349.cluster, null);
    assert.equal(v349.backend_state, 'up');
    // Cinder's comes from the scheduler, which keeps nothing of a backend it does not place volumes on.
    await s.request('PUT', 'os-services/disable', { body: { host, binary: 'cinder-volume' } });
    assert.equal((await at('3.49')).backend_state, null);
    assert.ok(!('backend_state' in (await s.request('GET', 'os-services?binary=cinder-scheduler', { version: '3.49' })).body.services[0]));
  });
});

forEachDatabase('os-services updates', (db) => {
  test('disable with a reason, enable again; the refusals name what is wrong', async (t) => {
    const s = await serviceOn(t, db().name);
    const host = `${s.config.host}@file`;
    const listed = async () => (await s.request('GET', 'os-services?binary=cinder-volume')).body.services[0];

    // openstack volume service set --disable --disable-reason ...
    const disabled = await s.request('PUT', 'os-services/disable-log-reason', {
      body: { host, binary: 'cinder-volume', disabled_reason: 'disk swap' },
    });
    assert.equal(disabled.status, 200, disabled.text);
    assert.deepEqual(disabled.body, { disabled_reason: 'disk swap', disabled: true, host, service: '', binary: 'cinder-volume', status: 'disabled' });
    assert.deepEqual([(await listed()).status, (await listed()).disabled_reason], ['disabled', 'disk swap']);

    // cinder service-enable, which still sends the deprecated "service" key.
    const enabled = await s.request('PUT', 'os-services/enable', { body: { host, service: 'cinder-volume' } });
    assert.equal(enabled.status, 200, enabled.text);
    assert.deepEqual(enabled.body, { disabled: false, host, service: 'cinder-volume', binary: '', status: 'enabled' });
    assert.equal((await listed()).status, 'enabled');
    assert.equal((await s.request('PUT', 'os-services/disable', { body: { host, binary: 'cinder-volume' } })).body.status, 'disabled');

    // The bare host name finds the service on it, as Cinder's lookup does.
    assert.equal((await s.request('PUT', 'os-services/enable', { body: { host: s.config.host, binary: 'cinder-volume' } })).body.host, s.config.host);
    assert.equal((await listed()).status, 'enabled');
    assertFault(
      await s.request('PUT', 'os-services/disable', { body: { host, binary: 'invalid_binary' } }),
      404,
      'itemNotFound',
      `Service invalid_binary could not be found on host ${host}.`,
    );
    assertFault(await s.request('PUT', 'os-services/failover', { body: { host } }), 400, 'badRequest', 'Invalid input received: Unknown action');
    assertFault(await s.request('PUT', 'os-services/enable', { body: { binary: 'cinder-volume' } }), 400, 'badRequest', 'Invalid input received: Host field is missing.');
    assertFault(await s.request('PUT', 'os-services/enable', { body: { host } }), 400, 'badRequest', `{'host': '${host}'} is not valid under any of the given schemas`);
    assertFault(
      await s.request('PUT', 'os-services/enable', { body: { host: 'nowhere@file', binary: 'cinder-volume' } }),
      404,
      'itemNotFound',
      'Service cinder-volume could not be found on host nowhere@file.',
    );
    assertFault(
      await s.request('PUT', 'os-services/disable-log-reason', { body: { host, binary: 'cinder-volume', disabled_reason: '   ' } }),
      400,
      'badRequest',
      'Invalid input received: disabled_reason has a minimum character requirement of 1.',
    );
  });
});

forEachDatabase('freezing a storage host', (db) => {
  test('freeze: out of scheduling, no deletes or snapshots there; thaw undoes it; the refusals are Cinder\'s', async (t) => {
    const s = await serviceOn(t, db().name);
    const host = `${s.config.host}@file`;
    const volume = await createVolume(s);
    const listed = async () => (await s.request('GET', 'os-services?binary=cinder-volume')).body.services[0];

    const frozen = await s.request('PUT', 'os-services/freeze', { body: { host } });
    assertEmpty(frozen, 200);
    if (requireTempestSchemas(t)) await assertTempestSchema(frozen, 'services.freeze_host');
    const service = await listed();
    assert.deepEqual([service.frozen, service.status, service.disabled_reason], [true, 'disabled', 'frozen']);

    const refusal = 'Invalid input received: Modification operations are not allowed on frozen storage backends.';
    assertFault(await s.request('DELETE', `volumes/${volume.id}`), 400, 'badRequest', refusal);
    assertFault(await s.request('POST', 'snapshots', { body: { snapshot: { volume_id: volume.id } } }), 400, 'badRequest', refusal);
    // Served as before.
    assert.equal((await s.request('GET', `volumes/${volume.id}`)).body.volume.status, 'available');
    assertFault(
      await s.request('PUT', 'os-services/freeze', { body: { host } }),
      400,
      'badRequest',
      `Invalid input received: No service could be changed: frozen in ['${host}'] must be False to failover.`,
    );

    // Enabling it again does not thaw it: the scheduler still leaves it out.
    assert.equal((await s.request('PUT', 'os-services/enable', { body: { host, binary: 'cinder-volume' } })).status, 200);
    assert.deepEqual((await s.request('GET', 'scheduler-stats/get_pools')).body, { pools: [] });
    assert.equal((await listed()).frozen, true);

    // By the bare host name, as os-services matches it.
    const thawed = await s.request('PUT', 'os-services/thaw', { body: { host: s.config.host } });
    assertEmpty(thawed, 200);
    if (requireTempestSchemas(t)) await assertTempestSchema(thawed, 'services.thaw_host');
    const back = await listed();
    assert.deepEqual([back.frozen, back.status, back.disabled_reason], [false, 'enabled', '']);
    assert.equal((await s.request('GET', 'scheduler-stats/get_pools')).body.pools.length, 1);
    assertFault(
      await s.request('PUT', 'os-services/thaw', { body: { host } }),
      400,
      'badRequest',
      `Invalid input received: No service could be changed: frozen in ['${host}'] must be True to failover.`,
    );
    assertEmpty(await s.request('DELETE', `volumes/${volume.id}`), 202);

    assertFault(await s.request('PUT', 'os-services/freeze', { body: { host: 'invalid_host' } }), 400, 'badRequest', 'Invalid input received: No service found with host=invalid_host');
    assertFault(await s.request('PUT', 'os-services/freeze', { body: {} }), 400, 'badRequest', 'Invalid input received: Host field is missing.');
    assertFault(
      await s.request('PUT', 'os-services/thaw', { body: { host, cluster: 'c1' }, version: '3.26' }),
      400,
      'badRequest',
      'Invalid input received: One and only one of cluster and host must be set.',
    );
    assertFault(await s.request('PUT', 'os-services/thaw', { body: { cluster: 'c1' }, version: '3.26' }), 400, 'badRequest', 'Invalid input received: No service found with cluster=c1');
    assertFault(await s.request('PUT', 'os-services/freeze', { body: { host, binary: 'cinder-volume' } }), 400, 'badRequest');
  });
});
