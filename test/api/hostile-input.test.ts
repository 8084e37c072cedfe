// Input a fuzzer finds: names that are JavaScript's own (__proto__, constructor) where the API
// looks a column up by name, and bodies nested deep enough to exhaust a recursive walk. Each
// gets Cinder's 400, and the service answers the next request as before.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { nestedDeeperThan } from '../../src/api/json-depth.js';
import { assertFault, createVolume, forEachDatabase, serviceOn } from './support.js';

const OBJECT_PROTOTYPE_NAMES = ['__proto__', 'constructor', 'toString', 'hasOwnProperty'];

test('nesting is counted outside strings only, escaped quotes included', () => {
  assert.equal(nestedDeeperThan('{"a":[[1]]}', 3), false);
  assert.equal(nestedDeeperThan('{"a":[[[1]]]}', 3), true);
  assert.equal(nestedDeeperThan(JSON.stringify({ a: '[[[[[[\\"{{{{' }), 1), false);
  assert.equal(nestedDeeperThan('[[], [], [], []]', 2), false);
});

forEachDatabase('hostile input', (db) => {
  test("a sort key that names no column but one of Object's own is an invalid sort key, on every list", async (t) => {
    const s = await serviceOn(t, db().name);
    await createVolume(s);
    for (const list of ['volumes', 'volumes/detail', 'snapshots', 'snapshots/detail', 'backups', 'backups/detail', 'groups', 'attachments', 'messages']) {
      for (const name of OBJECT_PROTOTYPE_NAMES) {
        for (const query of [`sort_key=${name}`, `sort=${name}:asc`]) {
          assertFault(await s.request('GET', `${list}?${query}`, { version: '3.70' }), 400, 'badRequest', 'Invalid input received: Invalid sort key');
        }
      }
    }
    // Such a name as a filter is a filter on nothing, as any unknown column is for an administrator.
    for (const name of OBJECT_PROTOTYPE_NAMES) {
      const res = await s.request('GET', `snapshots?${name}=1`);
      assert.equal(res.status, 200, res.text);
      assert.deepEqual(res.body.snapshots, []);
    }
    assert.equal((await s.request('GET', 'volumes')).body.volumes.length, 1);
  });

  test('a body nested past any request of the API is a malformed body, not an exhausted stack', async (t) => {
    const s = await serviceOn(t, db().name);
    const deep = `{"volume": ${'['.repeat(20_000)}${']'.repeat(20_000)}}`;
    assertFault(await s.request('POST', 'volumes', { rawBody: deep }), 400, 'badRequest', 'Malformed request body');
    const ordinary = { volume: { size: 1, metadata: { nested: 'no' } } };
    const res = await s.request('POST', 'volumes', { body: ordinary });
    assert.equal(res.status, 202, res.text);
  });
});
