import assert from 'node:assert/strict';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { test } from 'node:test';
import { tempDir } from '../helpers/env.js';
import { assertEmpty, assertFault, forEachDatabase, serviceOn } from './support.js';

const V = '3.32';

// tempest has no response schema for get-log or set-log; the bodies are checked against Cinder's own.

forEachDatabase('os-services log levels (3.32)', (db) => {
  test('get-log reports the levels in force; set-log changes them at once, in the API process and on the storage host', async (t) => {
    const s = await serviceOn(t, db().name);
    const volumeHost = `${s.config.host}@file`;
    const getLog = (body: object) => s.request('PUT', 'os-services/get-log', { body, version: V });

    const all = await getLog({});
    assert.equal(all.status, 200, all.text);
    assert.deepEqual(
      all.body.log_levels.map((entry: any) => [entry.binary, entry.host]),
      [
        ['cinder-api', s.config.host],
        ['cinder-scheduler', s.config.host],
        ['cinder-volume', volumeHost],
      ],
    );
    assert.deepEqual(Object.keys(all.body.log_levels[0]), ['host', 'binary', 'levels']);
    const apiLevels = all.body.log_levels[0].levels;
    for (const name of ['api', 'volumes', 'manager', 'scheduler']) assert.ok(name in apiLevels, `${name} in ${JSON.stringify(apiLevels)}`);
    assert.equal(apiLevels.api, 'OFF', 'the tests log nothing: pino silent');

    const set = await s.request('PUT', 'os-services/set-log', { body: { binary: 'cinder-api', prefix: 'api', level: 'error' }, version: V });
    assertEmpty(set, 202);
    assert.equal(set.headers.get('content-type'), 'text/html; charset=UTF-8');
    // What the API's request logger really writes at now.
    assert.equal(s.api.log.level, 'error');
    assert.deepEqual((await getLog({ binary: 'cinder-api', prefix: 'api' })).body, {
      log_levels: [{ binary: 'cinder-api', host: s.config.host, levels: { api: 'ERROR' } }],
    });

    // The storage host's loggers, through its RPC; a server names it as os-services' host filter does.
    assertEmpty(await s.request('PUT', 'os-services/set-log', { body: { binary: 'cinder-volume', server: s.config.host, prefix: 'mana', level: 'WARNING' }, version: V }), 202);
    assert.deepEqual((await getLog({ binary: 'cinder-volume', server: volumeHost, prefix: 'manager' })).body, {
      log_levels: [{ binary: 'cinder-volume', host: volumeHost, levels: { manager: 'WARNING' } }],
    });
    // In `serve` the storage host is this process: the API sees the same logger changed.
    assert.deepEqual((await getLog({ binary: 'cinder-api', prefix: 'manager' })).body.log_levels[0].levels, { manager: 'WARNING' });

    // '*' reaches every binary; the API (and the others) reported as set, with nothing else changed.
    assertEmpty(await s.request('PUT', 'os-services/set-log', { body: { binary: '*', prefix: 'volumes', level: 'Warning' }, version: V }), 202);
    const after = (await getLog({ binary: '*', prefix: '' })).body.log_levels;
    assert.equal(after.length, 3);
    for (const entry of after) assert.deepEqual([entry.levels.volumes, entry.levels.api, entry.levels.manager], ['WARNING', 'ERROR', 'WARNING'], entry.binary);

    // A server that is not this host: no API entry, and no service there.
    assert.deepEqual((await getLog({ server: 'elsewhere' })).body, { log_levels: [] });
    assert.deepEqual((await getLog({ binary: 'cinder-backup' })).body, { log_levels: [] });
    assert.deepEqual((await getLog({ binary: 'cinder-api', prefix: 'nothing-by-this-name' })).body.log_levels[0].levels, {});
  });

  test('refusals are Cinder\'s: bad level, binary, unknown fields, older microversions, policy', async (t) => {
    const s = await serviceOn(t, db().name);
    const put = (action: string, body: object, version = V) => s.request('PUT', `os-services/${action}`, { body, version });

    assertFault(await put('set-log', { level: 'verbose' }), 400, 'badRequest', 'Invalid input received: verbose is not a valid log level.');
    assertFault(await put('set-log', { prefix: 'api' }), 400, 'badRequest', 'Invalid input received:  is not a valid log level.');
    assertFault(await put('set-log', { level: null }), 400, 'badRequest', 'Invalid input received:  is not a valid log level.');
    assertFault(
      await put('get-log', { binary: 'cinder-foo' }),
      400,
      'badRequest',
      "Invalid input for field/attribute binary. Value: cinder-foo. 'cinder-foo' is not one of ['cinder-scheduler', 'cinder-volume', 'cinder-backup', 'cinder-api', '', '*']",
    );
    assertFault(await put('get-log', { level: 'INFO' }), 400, 'badRequest', "Additional properties are not allowed ('level' was unexpected)");
    assertFault(await put('set-log', { level: 'INFO', prefix: 7 }), 400, 'badRequest', "Invalid input for field/attribute prefix. Value: 7. 7 is not of type 'string', 'null'");
    assertFault(await put('set-log', { level: 'INFO' }, '3.31'), 400, 'badRequest', 'Invalid input received: Unknown action');
    assertFault(await put('get-log', {}, '3.31'), 400, 'badRequest', 'Invalid input received: Unknown action');
    // Nothing was changed by the refused calls.
    assert.equal(s.api.log.level, 'silent');
  });

  test('set-log and get-log are volume_extension:services:update, as in Cinder', async (t) => {
    const dir = await tempDir(t);
    const policyFile = join(dir, 'policy.yaml');
    await writeFile(policyFile, '"volume_extension:services:update": "!"\n');
    const s = await serviceOn(t, db().name, { policyFile });
    const refused = "Policy doesn't allow volume_extension:services:update to be performed.";
    assertFault(await s.request('PUT', 'os-services/get-log', { body: {}, version: V }), 403, 'forbidden', refused);
    assertFault(await s.request('PUT', 'os-services/set-log', { body: { level: 'DEBUG' }, version: V }), 403, 'forbidden', refused);
    assert.equal(s.api.log.level, 'silent');
    // Reading services is another rule, and still allowed.
    assert.equal((await s.request('GET', 'os-services')).status, 200);
  });
});
