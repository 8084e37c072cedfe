import assert from 'node:assert/strict';
import { test } from 'node:test';
import { startService } from '../helpers/service.js';
import { assertFault, assertRequestIds, assertVersionHeaders } from './support.js';

test('GET / answers 300 with the version document; GET /v3/ answers 200 with the same', async (t) => {
  const s = await startService(t);
  const root = await s.request('GET', '/', { headers: { 'X-Auth-Token': null } });
  assert.equal(root.status, 300);
  assert.equal(root.headers.get('content-type'), 'application/json');
  assertRequestIds(root);
  assertVersionHeaders(root, '3.0');
  const [doc] = root.body.versions;
  assert.equal(doc.id, 'v3.0');
  assert.equal(doc.status, 'CURRENT');
  assert.equal(doc.min_version, '3.0');
  assert.equal(doc.version, '3.70');
  assert.equal(doc.updated, '2022-08-31T00:00:00Z');
  assert.deepEqual(doc.links[1], { rel: 'self', href: `${s.baseUrl}/v3/` });
  assert.deepEqual(doc['media-types'], [{ base: 'application/json', type: 'application/vnd.openstack.volume+json;version=3' }]);

  const v3 = await s.request('GET', '/v3/');
  assert.equal(v3.status, 200);
  assert.deepEqual(v3.body, root.body);

  // cinderclient's discovery sends its own maximum even here.
  const discovery = await s.request('GET', '/', { version: '3.70', headers: { 'X-Auth-Token': null } });
  assertVersionHeaders(discovery, '3.70');
});

test('links in the version document follow public_endpoint, else the Host the client used', async (t) => {
  const s = await startService(t, { publicEndpoint: 'https://cloud.example.com/volume/v3' });
  const res = await s.request('GET', '/');
  assert.equal(res.body.versions[0].links[1].href, 'https://cloud.example.com/volume/v3/');
  const plain = await startService(t);
  const forwarded = await plain.request('GET', '/', { headers: { 'X-Forwarded-Host': 'api.example.org:8776' } });
  assert.equal(forwarded.body.versions[0].links[1].href, 'http://api.example.org:8776/v3/');
});

test('GET /v3 redirects to /v3/', async (t) => {
  const s = await startService(t);
  const res = await s.request('GET', '/v3');
  assert.equal(res.status, 302);
  assert.equal(res.headers.get('location'), '/v3/');
});

test('microversion negotiation: absent, explicit, latest', async (t) => {
  const s = await startService(t);
  assertVersionHeaders(await s.request('GET', 'volumes'), '3.0');
  assertVersionHeaders(await s.request('GET', 'volumes', { version: '3.44' }), '3.44');
  assertVersionHeaders(await s.request('GET', 'volumes', { version: 'latest' }), '3.70');
  // Other services' entries are skipped; the volume one is used.
  const mixed = await s.request('GET', 'volumes', { headers: { 'OpenStack-API-Version': 'compute 2.1, volume 3.27' } });
  assert.equal(mixed.status, 200);
  assertVersionHeaders(mixed, '3.27');
  // Legacy version headers are not Cinder's and are ignored.
  assertVersionHeaders(await s.request('GET', 'volumes', { headers: { 'X-OpenStack-Volume-API-Version': '3.50' } }), '3.0');
});

test('an invalid version string is 400 without version headers', async (t) => {
  const s = await startService(t);
  for (const bad of ['3.x', '3.01', '03.1', '3']) {
    const res = await s.request('GET', 'volumes', { version: bad });
    assertFault(res, 400, 'badRequest', `API Version String ${bad} is of invalid format. Must be of format MajorNum.MinorNum.`);
    assert.equal(res.headers.get('openstack-api-version'), null);
    assertRequestIds(res);
  }
});

test('a version out of range is 406 computeFault and is still echoed', async (t) => {
  const s = await startService(t);
  for (const [asked, shown] of [
    ['3.71', '3.71'],
    ['3.99', '3.99'],
    ['2.0', '2.0'],
    ['4.0', '4.0'],
  ]) {
    const res = await s.request('GET', 'volumes', { version: asked });
    assertFault(res, 406, 'computeFault', `Version ${shown} is not supported by the API. Minimum is 3.0 and maximum is 3.70.`);
    assertVersionHeaders(res, shown!);
    assertRequestIds(res);
  }
});

test('a version header that names no volume version is 400 with the generic message', async (t) => {
  const s = await startService(t);
  const res = await s.request('GET', 'volumes', { headers: { 'OpenStack-API-Version': 'compute 2.1' } });
  assertFault(res, 400, 'badRequest', 'The server could not comply with the request since it is either malformed or otherwise incorrect.');
});

test('routes and actions below their microversion answer 404 itemNotFound', async (t) => {
  const s = await startService(t);
  const cases: Array<[string, string, string, unknown?]> = [
    ['GET', 'attachments', '3.26'],
    ['POST', 'attachments', '3.26', { attachment: { volume_uuid: '6c6c3e4e-3c1b-4d4c-8a55-0b3f0d2f6a11' } }],
    ['GET', 'volumes/summary', '3.11'],
    ['GET', 'resource_filters', '3.32'],
  ];
  for (const [method, path, version, body] of cases) {
    const res = await s.request(method, path, { version, ...(body ? { body } : {}) });
    assertFault(res, 404, 'itemNotFound', 'The resource could not be found.');
    assertVersionHeaders(res, version);
  }
  // A bad body does not matter when the route is not there.
  const res = await s.request('POST', 'attachments', { version: '3.26', body: { nonsense: 1 } });
  assertFault(res, 404, 'itemNotFound');
});
