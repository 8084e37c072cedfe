// The identity and policy settings as an operator meets them: noauth refuses to face a
// network, keystone needs somewhere to validate tokens and a password to do it with, and a
// policy file with a mistake stops the start with its file and line. `cinderblock policy`
// prints the rules in force.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { loadConfig } from '../../src/config/config.js';
import { CLI_PATH, run, scratchDir } from '../helpers/process.js';

async function cinderblock(args: string[], env: Record<string, string> = {}) {
  const clean = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('CINDERBLOCK_')));
  const result = await run(process.execPath, [CLI_PATH, ...args], { env: { ...clean, ...env }, timeoutMs: 20_000 });
  assert.notEqual(result.code, null, 'it exits instead of hanging');
  return result;
}

describe('identity and policy settings', { concurrency: 3 }, () => {
  test('noauth listens on loopback only unless told otherwise, naming both ways out', async (t) => {
    const dataDir = await scratchDir(t);
    const refused = await cinderblock(['serve', '--data-dir', dataDir, '--api-listen', '0.0.0.0:18776']);
    assert.equal(refused.code, 1);
    assert.match(refused.stderr, /auth_strategy noauth makes every caller an administrator, so it listens on loopback only, and api_listen is 0\.0\.0\.0:18776/);
    assert.match(refused.stderr, /use auth_strategy keystone, or set allow_insecure_noauth \(--allow-insecure-noauth\)/);
    const flags = { apiListen: '0.0.0.0:18776', dataDir };
    assert.throws(() => loadConfig(flags, {}, undefined), /loopback only/);
    assert.equal(loadConfig({ ...flags, allowInsecureNoauth: true }, {}, undefined).apiListen, '0.0.0.0:18776');
    assert.equal(loadConfig({ ...flags, apiListen: '[::1]:18776' }, {}, undefined).authStrategy, 'noauth');
    // Keystone may face the network.
    const keystone = loadConfig({ ...flags, authStrategy: 'keystone', keystoneUrl: 'http://127.0.0.1:5000/v3', keystonePassword: 'pw' }, {}, undefined);
    assert.equal(keystone.apiListen, '0.0.0.0:18776');
  });

  test('keystone needs a URL and a password; the password comes from a file or the environment, never a flag', async (t) => {
    const dataDir = await scratchDir(t);
    const noUrl = await cinderblock(['serve', '--data-dir', dataDir, '--auth-strategy', 'keystone']);
    assert.match(noUrl.stderr, /setting keystone_url: auth_strategy keystone needs the identity v3 endpoint/);
    const noPassword = await cinderblock(['serve', '--data-dir', dataDir, '--auth-strategy', 'keystone', '--keystone-url', 'http://127.0.0.1:1/v3']);
    assert.match(noPassword.stderr, /needs the password of keystone_user "cinder": set keystone_password_file \(--keystone-password-file\), CINDERBLOCK_KEYSTONE_PASSWORD/);
    const missing = join(dataDir, 'no-such-file');
    const unreadable = await cinderblock(['serve', '--data-dir', dataDir, '--auth-strategy', 'keystone', '--keystone-url', 'http://127.0.0.1:1/v3', '--keystone-password-file', missing]);
    assert.match(unreadable.stderr, new RegExp(`setting keystone_password_file: cannot read ${missing}: ENOENT`));
    const asFlag = await cinderblock(['serve', '--data-dir', dataDir, '--keystone-password', 'hunter2']);
    assert.match(asFlag.stderr, /unknown option '--keystone-password'/);
    const unknownStrategy = await cinderblock(['serve', '--data-dir', dataDir, '--auth-strategy', 'ldap']);
    assert.match(unknownStrategy.stderr, /setting auth_strategy: expected one of noauth, keystone, got "ldap"/);

    const file = join(dataDir, 'password');
    await writeFile(file, 'from-the-file\n');
    const fromFile = loadConfig({ dataDir, authStrategy: 'keystone', keystoneUrl: 'http://127.0.0.1:1/v3', keystonePasswordFile: file }, {}, undefined);
    assert.equal(fromFile.keystonePassword, 'from-the-file');
    const fromEnv = loadConfig({ dataDir }, { CINDERBLOCK_AUTH_STRATEGY: 'keystone', CINDERBLOCK_KEYSTONE_URL: 'http://127.0.0.1:1/v3', CINDERBLOCK_KEYSTONE_PASSWORD: 'from-env' }, undefined);
    assert.equal(fromEnv.keystonePassword, 'from-env');
    assert.deepEqual([fromEnv.keystoneUser, fromEnv.keystoneProject, fromEnv.keystoneUserDomain, fromEnv.tokenCacheTime, fromEnv.serviceTokenRoles, fromEnv.serviceTokenRolesRequired], [
      'cinder',
      'service',
      'Default',
      300,
      ['service'],
      true,
    ]);
  });

  test('a policy file with mistakes stops the start, each mistake with its line', async (t) => {
    const dataDir = await scratchDir(t);
    const file = join(dataDir, 'policy.yaml');
    await writeFile(file, ['# site rules', '"volume:create": "rule:admin_api"', '"volume:craete": "role:admin"', '"volume:get": "role:reader and ("', ''].join('\n'));
    const result = await cinderblock(['serve', '--data-dir', dataDir, '--policy-file', file]);
    assert.equal(result.code, 1);
    assert.match(result.stderr, new RegExp(`policy file ${file} line 3: "volume:craete" is not one of Cinder's rules.*\\(did you mean "volume:create"\\?\\)`));
    assert.match(result.stderr, new RegExp(`policy file ${file} line 4: "volume:get": check string "role:reader and \\(" does not parse`));
    assert.doesNotMatch(result.stdout, /ready/);
  });

  test('cinderblock policy prints the rules in force, overrides marked', async (t) => {
    const dataDir = await scratchDir(t);
    const defaults = await cinderblock(['policy']);
    assert.equal(defaults.code, 0, defaults.stderr);
    assert.match(defaults.stdout, /^"volume:create": "rule:xena_system_admin_or_project_member"$/m);
    assert.match(defaults.stdout, /^"context_is_admin": "role:admin"$/m);
    const file = join(dataDir, 'policy.json');
    await writeFile(file, JSON.stringify({ 'volume:create': 'role:admin' }));
    const overridden = await cinderblock(['policy'], { CINDERBLOCK_POLICY_FILE: file });
    assert.equal(overridden.code, 0, overridden.stderr);
    assert.match(overridden.stdout, /# overridden \(default: "rule:xena_system_admin_or_project_member"\)[^\n]*\n"volume:create": "role:admin"/);
  });
});
