// `cinderblock policy`'s body, run in a process of its own as the command will run it.
import assert from 'node:assert/strict';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { test, type TestContext } from 'node:test';
import { fileURLToPath } from 'node:url';
import { CINDER_RULES, Policy } from '../../src/policy/index.js';
import { tempDir } from '../helpers/env.js';
import { run } from '../helpers/process.js';

const COMMAND_MODULE = fileURLToPath(new URL('../../src/cli/policy.js', import.meta.url));

async function policyCommand(policyFile?: string): Promise<{ stdout: string; stderr: string }> {
  const script = `import { policyCommand } from ${JSON.stringify(COMMAND_MODULE)}; await policyCommand({ policyFile: process.argv[1] });`;
  const result = await run(process.execPath, ['--input-type=module', '-e', script, ...(policyFile ? [policyFile] : [])]);
  assert.equal(result.code, 0, result.stderr);
  return result;
}

/** The two lines printed for a rule: its comment and its entry. */
function entryOf(output: string, name: string): [comment: string, entry: string] {
  const lines = output.split('\n');
  const at = lines.findIndex((line) => line.replace(/^#/, '').startsWith(`${JSON.stringify(name)}:`));
  assert.ok(at > 0, `${name} is not in the output`);
  return [lines[at - 1], lines[at]];
}

async function write(t: TestContext, text: string): Promise<string> {
  const path = join(await tempDir(t), 'policy.yaml');
  await writeFile(path, text);
  return path;
}

test('the defaults, printed as a policy file: enforced rules as entries, the others commented out', async () => {
  const { stdout, stderr } = await policyCommand();
  assert.equal(stderr, '');
  assert.match(stdout, /^# Cinderblock's policy in force: Cinder 21 \(Zed\) defaults, with new defaults enforced\.\n/);
  assert.deepEqual(entryOf(stdout, 'volume:create'), ['# default. Create a volume.', '"volume:create": "rule:xena_system_admin_or_project_member"']);
  assert.deepEqual(entryOf(stdout, 'admin_or_owner'), [
    "# default. Base rule: an admin, or anyone in the target's project (Cinder's pre-Xena owner rule).",
    '"admin_or_owner": "is_admin:True or (role:admin and is_admin_project:True) or project_id:%(project_id)s"',
  ]);
  assert.deepEqual(entryOf(stdout, 'workers:cleanup'), [
    '# default; not enforced: no Cinderblock API checks it yet. Clean up workers.',
    '#"workers:cleanup": "rule:admin_api"',
  ]);
  const entries = stdout.split('\n').filter((line) => /^#?"/.test(line));
  assert.equal(entries.length, 166);
  assert.equal(entries.filter((line) => line.startsWith('"')).length, CINDER_RULES.filter((rule) => rule.enforced).length);
  // In Cinder's order.
  assert.deepEqual(
    entries.map((line) => JSON.parse(line.replace(/^#/, '').split('": ')[0] + '"')),
    Policy.defaults().effectiveRules().map((rule) => rule.name),
  );
});

test('overrides and aliases from a file are marked; its warnings go to standard error', async (t) => {
  const path = await write(
    t,
    ['cloud_admins: "role:cloud_admin"', 'admin_api: "rule:cloud_admins"', '"volume:get": "rule:xena_system_admin_or_project_reader"', '"workers:cleanup": "!"', ''].join('\n'),
  );
  const { stdout, stderr } = await policyCommand(path);
  assert.match(stdout, new RegExp(`^# Cinderblock's policy in force: Cinder 21 \\(Zed\\) defaults overridden by ${path.replace(/[.]/g, '\\.')}, with new defaults enforced\\.\n`));
  assert.deepEqual(entryOf(stdout, 'admin_api'), [
    '# overridden (default: "is_admin:True or (role:admin and is_admin_project:True)"). Base rule for administrator-only APIs.',
    '"admin_api": "rule:cloud_admins"',
  ]);
  assert.deepEqual(entryOf(stdout, 'volume:get'), ['# set in the policy file, same as the default. Show a volume.', '"volume:get": "rule:xena_system_admin_or_project_reader"']);
  assert.deepEqual(entryOf(stdout, 'workers:cleanup'), [
    '# overridden (default: "rule:admin_api"); not enforced: no Cinderblock API checks it yet. Clean up workers.',
    '"workers:cleanup": "!"',
  ]);
  assert.deepEqual(entryOf(stdout, 'cloud_admins'), ['# defined in the policy file, for rule: checks to use.', '"cloud_admins": "role:cloud_admin"']);
  assert.ok(stdout.trimEnd().endsWith('"cloud_admins": "role:cloud_admin"'), 'the alias comes last');
  assert.equal(stderr, `warning: policy file ${path} line 4: "workers:cleanup" is one of Cinder's rules, but no Cinderblock API checks it yet: it is accepted and has no effect of its own\n`);
});

test('the output, saved as a file, loads back to the same policy without a warning', async (t) => {
  const original = await write(t, ['cloud_admins: "role:cloud_admin"', 'admin_api: "rule:cloud_admins or is_admin:True"', ''].join('\n'));
  const { stdout } = await policyCommand(original);
  const saved = await write(t, stdout);
  const { policy, warnings } = Policy.fromFile(saved);
  assert.deepEqual(warnings, []);
  const strip = (rules: ReturnType<Policy['effectiveRules']>) => rules.map(({ name, check, enforced }) => ({ name, check, enforced }));
  assert.deepEqual(strip(policy.effectiveRules()), strip(Policy.fromFile(original).policy.effectiveRules()));
  // Every enforced rule is in the saved file; the dormant ones stayed comments.
  const sources = new Map(policy.effectiveRules().map((rule) => [rule.name, rule.source]));
  assert.equal(sources.get('volume:create'), 'file');
  assert.equal(sources.get('workers:cleanup'), 'default');
});

test('a bad policy file fails the command with its line', async (t) => {
  const path = await write(t, '"volume:craete": "role:admin"\n');
  const script = `import { policyCommand } from ${JSON.stringify(COMMAND_MODULE)}; await policyCommand({ policyFile: process.argv[1] });`;
  const result = await run(process.execPath, ['--input-type=module', '-e', script, path]);
  assert.notEqual(result.code, 0);
  assert.match(result.stderr, new RegExp(`policy file ${path.replace(/[.]/g, '\\.')} line 1: "volume:craete" is not one of Cinder's rules`));
  assert.equal(result.stdout, '');
});
