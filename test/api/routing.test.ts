import assert from 'node:assert/strict';
import { test } from 'node:test';
import { startService } from '../helpers/service.js';
import { assertFault, assertRequestIds, assertVersionHeaders, createVolume } from './support.js';

test('noauth: a request without X-Auth-Token gets the 204 handshake instead of an answer', async (t) => {
  const s = await startService(t);
  const res = await s.request('GET', 'volumes/detail', { headers: { 'X-Auth-Token': null } });
  assert.equal(res.status, 204);
  assert.equal(res.text, '');
  assert.equal(res.headers.get('x-auth-token'), 'admin:admin');
  assert.equal(res.headers.get('x-server-management-url'), `${s.endpoint}/volumes/detail`);
  assertRequestIds(res);

  const named = await s.request('POST', 'volumes', {
    headers: { 'X-Auth-Token': null, 'X-Auth-User': 'alice', 'X-Auth-Project-Id': 'abc123' },
    body: { volume: { size: 1 } },
  });
  assert.equal(named.status, 204);
  assert.equal(named.headers.get('x-auth-token'), 'alice:abc123');
  // The call was not executed.
  const list = await s.request('GET', 'volumes');
  assert.deepEqual(list.body.volumes, []);

  // Even unknown paths and the version document under /v3 are behind the handshake.
  assert.equal((await s.request('GET', '/v3/', { headers: { 'X-Auth-Token': null } })).status, 204);
  assert.equal((await s.request('GET', '/v3/nowhere/at/all', { headers: { 'X-Auth-Token': null } })).status, 204);
});

test('noauth: "user:project" and "user" tokens scope the request; everyone is an administrator', async (t) => {
  const s = await startService(t);
  const created = (await s.request('POST', 'volumes', { body: { volume: { size: 1, name: 'mine' } } })).body.volume;
  // Cinder adds the extended attributes to show and detail only, not to the create's answer.
  assert.ok(!('os-vol-tenant-attr:tenant_id' in created) && !('os-vol-host-attr:host' in created));
  const mine = await s.waitForVolume(created.id, ['available']);
  assert.equal(mine.user_id, 'admin');
  assert.equal(mine['os-vol-tenant-attr:tenant_id'], s.projectId);
  // Administrators see admin-only attributes.
  assert.ok('os-vol-host-attr:host' in mine);

  // A token without a project uses the user as the project, here in the project-less URL form.
  const other = await s.request('POST', '/v3/volumes', { headers: { 'X-Auth-Token': 'bob' }, body: { volume: { size: 1 } } });
  assert.equal(other.status, 202, other.text);
  assert.equal(other.body.volume.user_id, 'bob');
  const bobs = await s.request('GET', `/v3/volumes/${other.body.volume.id}`, { headers: { 'X-Auth-Token': 'bob' } });
  assert.equal(bobs.body.volume['os-vol-tenant-attr:tenant_id'], 'bob');

  // Lists stay within the caller's project unless all_tenants is asked for.
  const ownList = await s.request('GET', 'volumes');
  assert.deepEqual(ownList.body.volumes.map((v: any) => v.id), [mine.id]);
  const all = await s.request('GET', 'volumes?all_tenants=1');
  assert.deepEqual(new Set(all.body.volumes.map((v: any) => v.id)), new Set([mine.id, other.body.volume.id]));
});

test('routes work with and without the project id; links follow the form used', async (t) => {
  const s = await startService(t);
  const v = await createVolume(s);
  assert.equal(v.links[0].href, `${s.endpoint}/volumes/${v.id}`);
  assert.equal(v.links[1].href, `${s.baseUrl}/${s.projectId}/volumes/${v.id}`);
  const bare = await s.request('GET', `/v3/volumes/${v.id}`);
  assert.equal(bare.status, 200);
  assert.equal(bare.body.volume.links[0].href, `${s.baseUrl}/v3/volumes/${v.id}`);
  assert.equal(bare.body.volume.links[1].href, `${s.baseUrl}/volumes/${v.id}`);
});

test('a URL project other than the token project is 400 Malformed request url', async (t) => {
  const s = await startService(t);
  const res = await s.request('GET', '/v3/0123456789abcdef/volumes', { version: '3.50' });
  assertFault(res, 400, 'badRequest', 'Malformed request url');
  assertVersionHeaders(res, '3.50');
  assertRequestIds(res);
});

test('a project id outside [0-9a-f-] does not route: plain 404 shaped by Accept', async (t) => {
  const s = await startService(t);
  const json = await s.request('GET', '/v3/demo/volumes');
  assert.equal(json.status, 404);
  assert.deepEqual(json.body, {
    message: 'The resource could not be found.<br /><br />\n\n\n',
    code: '404 Not Found',
    title: 'Not Found',
  });
  assert.equal(json.headers.get('openstack-api-version'), null);
  assertRequestIds(json);
  const html = await s.request('GET', '/v3/demo/volumes', { headers: { Accept: null } });
  assert.equal(html.status, 404);
  assert.match(html.headers.get('content-type') ?? '', /^text\/html/);
  assert.match(html.text, /<title>404 Not Found<\/title>/);
  const plain = await s.request('GET', '/v3/demo/volumes', { headers: { Accept: 'text/plain' } });
  assert.match(plain.text, /^404 Not Found\n\nThe resource could not be found\./);
  // Unknown collections and methods are routing 404s too.
  assert.equal((await s.request('GET', 'servers/detail')).status, 404);
  assert.equal((await s.request('PATCH', 'volumes')).status, 404);
});

test('Content-Type: only JSON types are accepted; a body without one is ignored', async (t) => {
  const s = await startService(t);
  const xml = await s.request('POST', 'volumes', {
    rawBody: '<volume size="1"/>',
    headers: { 'Content-Type': 'application/xml' },
    version: '3.10',
  });
  assertFault(xml, 415, 'badMediaType', 'Unsupported Content-Type');
  assertVersionHeaders(xml, '3.10');

  const vendor = await s.request('POST', 'volumes', {
    body: { volume: { size: 1 } },
    headers: { 'Content-Type': 'application/vnd.openstack.volume+json' },
  });
  assert.equal(vendor.status, 202, vendor.text);
  const charset = await s.request('POST', 'volumes', {
    body: { volume: { size: 1 } },
    headers: { 'Content-Type': 'application/json; charset=UTF-8' },
  });
  assert.equal(charset.status, 202, charset.text);

  const id = vendor.body.volume.id;
  await s.waitForVolume(id, ['available']);
  // No Content-Type: the body is not read, so there is no action to dispatch.
  const res = await s.request('POST', `volumes/${id}/action`, {
    rawBody: JSON.stringify({ 'os-reserve': null }),
    headers: { 'Content-Type': null },
  });
  assertFault(res, 400, 'badRequest', 'Malformed request body');
  assert.equal((await s.request('GET', `volumes/${id}`)).body.volume.status, 'available');
});

test('malformed JSON is 400 Malformed request body', async (t) => {
  const s = await startService(t);
  assertFault(await s.request('POST', 'volumes', { rawBody: '{"volume": ' }), 400, 'badRequest', 'Malformed request body');
  assertFault(
    await s.request('POST', 'volumes', { rawBody: '{"__proto__": {"x": 1}, "volume": {"size": 1}}' }),
    400,
    'badRequest',
    'Malformed request body',
  );
});

test('a body missing where one is required is a validation error', async (t) => {
  const s = await startService(t);
  assertFault(await s.request('POST', 'volumes'), 400, 'badRequest', "None is not of type 'object'");
});

test('a URL that cannot be decoded is a 400 fault with request ids', async (t) => {
  const s = await startService(t);
  const res = await s.request('GET', 'volumes/%zz');
  assertFault(res, 400, 'badRequest', 'The server could not comply with the request since it is either malformed or otherwise incorrect.');
  assertRequestIds(res);
});

test('the .json suffix is accepted', async (t) => {
  const s = await startService(t);
  const v = await createVolume(s);
  const res = await s.request('GET', `volumes/${v.id}.json`);
  assert.equal(res.status, 200);
  assert.equal(res.body.volume.id, v.id);
  assert.equal((await s.request('GET', 'volumes/detail.json')).body.volumes.length, 1);
});

test('an oversized body is 413 overLimit', async (t) => {
  const s = await startService(t);
  const res = await s.request('POST', 'volumes', { body: { volume: { size: 1, description: 'x'.repeat(200_000) } } });
  assertFault(res, 413, 'overLimit', 'Request is too large.');
});

test('limits and availability zones answer as cinderclient expects', async (t) => {
  const s = await startService(t);
  await createVolume(s, { size: 2 });
  const limits = await s.request('GET', 'limits');
  assert.equal(limits.status, 200);
  assert.deepEqual(limits.body.limits.rate, []);
  assert.equal(limits.body.limits.absolute.totalVolumesUsed, 1);
  assert.equal(limits.body.limits.absolute.totalGigabytesUsed, 2);
  assert.equal(limits.body.limits.absolute.maxTotalVolumes, 10);
  assert.equal(limits.body.limits.absolute.maxTotalVolumeGigabytes, 1000);
  const zones = await s.request('GET', 'os-availability-zone');
  assert.deepEqual(zones.body, { availabilityZoneInfo: [{ zoneName: 'nova', zoneState: { available: true } }] });
  const filters = await s.request('GET', 'resource_filters?resource=attachment', { version: '3.33' });
  assert.deepEqual(filters.body, {
    resource_filters: [{ resource: 'attachment', filters: ['volume_id', 'status', 'instance_id', 'attach_status'] }],
  });
});

test('an unexpected failure is a 500 computeFault that tells nothing', async (t) => {
  const s = await startService(t);
  s.app.storage.listVolumes = async () => {
    throw new Error('database exploded at /secret/path');
  };
  const res = await s.request('GET', 'volumes', { version: '3.5' });
  assertFault(res, 500, 'computeFault', 'The server has either erred or is incapable of performing the requested operation.');
  assertVersionHeaders(res, '3.5');
  assertRequestIds(res);
});
