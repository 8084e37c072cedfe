import assert from 'node:assert/strict';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { test, type TestContext } from 'node:test';
import { Policy, PolicyFileError, type PolicyCredentials, type PolicyFileProblem } from '../../src/policy/index.js';
import { tempDir } from '../helpers/env.js';

const PROJECT = 'b7e2c1d0a9f84e3d8c7b6a5f4e3d2c1b';
const TARGET = { project_id: PROJECT };
const member: PolicyCredentials = { userId: 'u1', projectId: PROJECT, roles: ['member', 'reader'], isAdmin: false, isAdminProject: false };
const cloudAdmin: PolicyCredentials = { userId: 'u2', projectId: 'ops', roles: ['cloud_admin'], isAdmin: false, isAdminProject: false };

async function policyFile(t: TestContext, text: string, name = 'policy.yaml'): Promise<string> {
  const path = join(await tempDir(t), name);
  await writeFile(path, text);
  return path;
}

/** The problems a file is refused for, as "line: message". */
function refusal(path: string): string[] {
  try {
    Policy.fromFile(path);
  } catch (err) {
    assert.ok(err instanceof PolicyFileError, String(err));
    assert.equal(err.file, path);
    // Every line of the message names the file, and the line where there is one.
    for (const [i, line] of err.message.split('\n').entries()) {
      const problem: PolicyFileProblem = err.problems[i];
      const where: string = problem.line === null ? '' : ` line ${problem.line}`;
      assert.equal(line, `policy file ${path}${where}: ${problem.message}`);
    }
    return err.problems.map((p) => `${p.line}: ${p.message}`);
  }
  assert.fail(`${path} loaded, but should have been refused`);
}

test('a YAML file overrides rules; comments, quoting styles and the rest stay default', async (t) => {
  const path = await policyFile(
    t,
    [
      '# Only cloud admins may create volumes here.',
      '"volume:create": "role:cloud_admin"',
      "volume:delete: 'role:cloud_admin or rule:xena_system_admin_or_project_member'",
      'volume:get: >-',
      '  role:cloud_admin',
      '  or rule:xena_system_admin_or_project_reader',
      '',
    ].join('\n'),
  );
  const { policy, warnings } = Policy.fromFile(path);
  assert.deepEqual(warnings, []);
  assert.equal(policy.allows('volume:create', TARGET, member), false);
  assert.equal(policy.allows('volume:create', TARGET, cloudAdmin), true);
  assert.equal(policy.allows('volume:delete', TARGET, member), true);
  assert.equal(policy.allows('volume:delete', TARGET, cloudAdmin), true);
  assert.equal(policy.allows('volume:get', TARGET, cloudAdmin), true);
  assert.equal(policy.allows('volume:update', TARGET, cloudAdmin), false);
  const rules = policy.effectiveRules();
  assert.equal(rules.length, 166);
  const byName = new Map(rules.map((rule) => [rule.name, rule]));
  assert.deepEqual(byName.get('volume:create'), { name: 'volume:create', check: 'role:cloud_admin', source: 'file', enforced: true });
  assert.equal(byName.get('volume:get')?.check, 'role:cloud_admin or rule:xena_system_admin_or_project_reader');
  assert.deepEqual(byName.get('volume:update'), {
    name: 'volume:update',
    check: 'rule:xena_system_admin_or_project_member',
    source: 'default',
    enforced: true,
  });
});

test('a JSON file, tab-indented as oslo policy.json files often are', async (t) => {
  const path = await policyFile(t, '{\n\t"volume:create": "role:cloud_admin",\n\t"volume:get": ""\n}\n', 'policy.json');
  const { policy } = Policy.fromFile(path);
  assert.equal(policy.allows('volume:create', TARGET, member), false);
  assert.equal(policy.allows('volume:create', TARGET, cloudAdmin), true);
  // "" allows everyone, as in oslo.
  assert.equal(policy.allows('volume:get', { project_id: 'elsewhere' }, cloudAdmin), true);
  assert.match(refusal(await policyFile(t, '{\n\t"volume:create": "role:x",\n\t"volume:get" "role:y"\n}\n', 'bad.json'))[0], /^3: not valid YAML or JSON: /);
});

test('an alias the file defines and uses is fine; it comes after Cinder rules in the effective list', async (t) => {
  const path = await policyFile(t, ['cloud_admins: "role:cloud_admin"', 'admin_api: "rule:cloud_admins"', ''].join('\n'));
  const { policy, warnings } = Policy.fromFile(path);
  assert.deepEqual(warnings, []);
  assert.equal(policy.allows('volume:force_delete', TARGET, cloudAdmin), true);
  assert.equal(policy.allows('volume_extension:services:index', TARGET, cloudAdmin), true);
  assert.equal(policy.allows('volume:force_delete', TARGET, { ...member, isAdmin: true }), false);
  const rules = policy.effectiveRules();
  assert.equal(rules.length, 167);
  assert.deepEqual(rules[166], { name: 'cloud_admins', check: 'role:cloud_admin', source: 'file', enforced: false });
  assert.deepEqual(rules[3], { name: 'admin_api', check: 'rule:cloud_admins', source: 'file', enforced: true });
});

test('a Cinder rule Cinderblock does not enforce loads with a warning; so does a check on credentials it never has', async (t) => {
  const path = await policyFile(t, ['"volume:create": "rule:admin_api"', '"workers:cleanup": "rule:admin_api"', '"volume:get": "tenant:%(project_id)s or token.user:x"', ''].join('\n'));
  const { policy, warnings } = Policy.fromFile(path);
  assert.deepEqual(warnings, [
    `policy file ${path} line 2: "workers:cleanup" is one of Cinder's rules, but no Cinderblock API checks it yet: it is accepted and has no effect of its own`,
    `policy file ${path} line 3: "volume:get": the check on "tenant" is always false: Cinderblock's credentials have only user_id, project_id, domain_id, roles, is_admin, is_admin_project, system_scope, system`,
    `policy file ${path} line 3: "volume:get": the check on "token.user" is always false: Cinderblock's credentials have only user_id, project_id, domain_id, roles, is_admin, is_admin_project, system_scope, system`,
  ]);
  assert.equal(policy.effectiveRules().find((rule) => rule.name === 'workers:cleanup')?.source, 'file');
  assert.equal(policy.allows('volume:get', TARGET, member), false);
});

test('each kind of mistake is refused with its line', async (t) => {
  const cases: Array<[text: string, expected: RegExp]> = [
    ['"volume:create": "role:admin"\n"volume:get": "role:a" "role:b"\n"volume:delete": ""\n', /^2: not valid YAML or JSON: Unexpected double-quoted-scalar/],
    ['"volume:create": "role:admin"\n"volume:get": "role:a\n"volume:delete": ""\n', /^2: not valid YAML or JSON: Missing closing "quote/],
    ['"volume:create": "role:admin"\n\n"volume:get": "role:reader and"\n', /^3: "volume:get": check string "role:reader and" does not parse: expected a check, "not" or "\(" after "and", found the end of the string \(at column 16\)$/],
    ['"volume:create": "role:admin"\n"volume:get": 5\n', /^2: "volume:get": expected a check string, found the number 5 \(write "" to allow everyone, "!" to allow no one\)$/],
    ['"volume:get":\n', /^1: "volume:get": expected a check string, found nothing/],
    ['"volume:get": true\n', /^1: "volume:get": expected a check string, found the boolean true/],
    ['"volume:get":\n  - role:admin\n', /^2: "volume:get": expected a check string, found a list/],
    ['"volume:create": "role:admin"\n"volume:get": "rule:admin_ap"\n', /^2: "volume:get": rule:admin_ap refers to a rule defined nowhere \(did you mean "admin_api"\?\)$/],
    ['a: "rule:b"\nb: "role:x or rule:c"\nc: "rule:a"\nadmin_api: "rule:a"\n', /^1: "a" refers back to itself through rule: checks: a -> b -> c -> a$/],
    ['admin_api: "rule:admin_api"\n', /^1: "admin_api" refers back to itself through rule: checks: admin_api -> admin_api$/],
    ['"volume:create": "role:admin"\n"volume:craete": "role:admin"\n', /^2: "volume:craete" is not one of Cinder's rules, and no rule: check refers to it \(did you mean "volume:create"\?\)$/],
    ['my_private_rule: "role:admin"\n', /^1: "my_private_rule" is not one of Cinder's rules, and no rule: check refers to it$/],
    ['"volume:get": "role:a"\n"volume:get": "role:b"\n', /^2: not valid YAML or JSON: Map keys must be unique/],
    ['- "volume:get"\n', /^1: expected a mapping of rule names to check strings, found a list$/],
    ['"volume:get": "http://policy.example"\n', /^1: "volume:get": check string "http:\/\/policy.example" does not parse: "http:" checks/],
    ['1: "role:a"\n', /^1: expected a rule name \(a string\) as the key, found the number 1$/],
  ];
  for (const [text, expected] of cases) {
    const problems = refusal(await policyFile(t, text));
    assert.equal(problems.length, 1, `${JSON.stringify(text)}: ${problems.join(' | ')}`);
    assert.match(problems[0], expected, JSON.stringify(text));
  }
});

test('all of the mistakes in a file are reported at once, in line order', async (t) => {
  const path = await policyFile(
    t,
    ['"volume:craete": "role:admin"', '"volume:get": "role:a or"', '"volume:delete": "rule:nowhere"', 'x: "rule:y"', 'y: "rule:x"', '"volume:update": 3', ''].join('\n'),
  );
  assert.deepEqual(
    refusal(path),
    [
      `1: "volume:craete" is not one of Cinder's rules, and no rule: check refers to it (did you mean "volume:create"?)`,
      '2: "volume:get": check string "role:a or" does not parse: expected a check, "not" or "(" after "or", found the end of the string (at column 10)',
      '3: "volume:delete": rule:nowhere refers to a rule defined nowhere',
      '4: "x" refers back to itself through rule: checks: x -> y -> x',
      '6: "volume:update": expected a check string, found the number 3 (write "" to allow everyone, "!" to allow no one)',
    ],
  );
});
test('an empty file changes nothing; a missing one is refused', async (t) => {
  const { policy, warnings } = Policy.fromFile(await policyFile(t, '# nothing overridden yet\n'));
  assert.deepEqual(warnings, []);
  assert.deepEqual(policy.effectiveRules(), Policy.defaults().effectiveRules());
  const missing = join(await tempDir(t), 'absent.yaml');
  const [problem] = refusal(missing);
  assert.match(problem, /^null: cannot be read: ENOENT/);
});
