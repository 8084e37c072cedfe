// Cinderblock's policy engine against the real oslo.policy (and oslo.context, with Cinder's
// is_admin): the same rules, credentials and targets must get the same decisions, and the
// same strings must parse. Cases are generated from a fixed seed, so a failure replays.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { test, type TestContext } from 'node:test';
import { fileURLToPath } from 'node:url';
import { CINDER_RULES, Policy, PolicyParseError, type EnforcedRule, type PolicyCredentials, type PolicyTarget } from '../../src/policy/index.js';
import { parseRule } from '../../src/policy/parser.js';
import { requireTool, tempDir } from '../helpers/env.js';
import { xorshift32 } from '../helpers/prng.js';

const SCRIPT = fileURLToPath(new URL('../../../test/policy/py/oslo_decide.py', import.meta.url));
const SEED = 0x5eed_0c1d;

interface Case {
  rule: string;
  creds: PolicyCredentials;
  target: PolicyTarget;
}
interface OsloRequest {
  policies: Array<{ rules: Record<string, string>; cases: Case[] }>;
  parses: string[];
}
interface OsloAnswer {
  decisions: Array<Array<boolean | string>>;
  parses: boolean[];
}

function askOslo(python: string, request: OsloRequest): Promise<OsloAnswer> {
  return new Promise((resolve, reject) => {
    const child = execFile(python, [SCRIPT], { maxBuffer: 64 * 1024 * 1024, timeout: 60_000 }, (err, stdout, stderr) => {
      if (err) reject(new Error(`oslo_decide.py failed: ${err.message}\n${stderr}`));
      else resolve(JSON.parse(stdout) as OsloAnswer);
    });
    child.stdin!.end(JSON.stringify(request));
  });
}

/** /usr/bin/python3 with oslo.policy, as requireTool treats a tool: in CI its absence fails the test. */
async function requireOslo(t: TestContext): Promise<string | null> {
  const python = requireTool(t, '/usr/bin/python3');
  if (!python) return null;
  const importable = await new Promise<boolean>((resolve) => {
    execFile(python, ['-c', 'import oslo_policy, oslo_context, oslo_config'], (err) => resolve(!err));
  });
  if (importable) return python;
  if (process.env.CI === 'true') throw new Error('python3 cannot import oslo_policy (Debian package python3-oslo.policy)');
  t.skip('python3-oslo.policy is not installed');
  return null;
}

function generator(seed: number) {
  const next = xorshift32(seed);
  const below = (n: number) => next() % n;
  const pick = <T>(items: readonly T[]): T => items[below(items.length)];
  const chance = (percent: number) => below(100) < percent;
  return { below, pick, chance };
}
type Gen = ReturnType<typeof generator>;

const ROLES = ['admin', 'Admin', 'member', 'reader', 'service'];
const ABSENT = undefined;

function randomCreds(g: Gen): PolicyCredentials {
  const creds: PolicyCredentials = {
    userId: g.pick(['u1', 'u2']),
    projectId: g.pick(['p1', 'p2', null]),
    roles: ROLES.filter(() => g.chance(35)),
    isAdmin: g.chance(30),
    isAdminProject: g.chance(40),
  };
  const domainId = g.pick([ABSENT, null, 'd1', 'd2']);
  if (domainId !== ABSENT) creds.domainId = domainId;
  const systemScope = g.pick([ABSENT, null, '', 'all']);
  if (systemScope !== ABSENT) creds.systemScope = systemScope;
  return creds;
}

function randomTarget(g: Gen): PolicyTarget {
  const choices: Record<string, Array<string | null | undefined>> = {
    project_id: [ABSENT, null, 'p1', 'p1', 'p2'],
    user_id: [ABSENT, 'u1', 'u2'],
    domain_id: [ABSENT, null, 'd1'],
    role: [ABSENT, 'Member', 'admin'],
    flag: [ABSENT, 'True', 'False', 'None'],
    n: [ABSENT, '42', '16'],
    f: [ABSENT, '1.5'],
    suffix: [ABSENT, '1', '2'],
  };
  const target: Record<string, string | null> = {};
  for (const [key, values] of Object.entries(choices)) {
    const value = g.pick(values);
    if (value !== ABSENT) target[key] = value;
  }
  return target;
}

// Checks of every kind, including oslo's quirks: str(None) == 'None', generic checks on lists
// comparing case-sensitively, "system" present only with a system scope, keys missing from the target.
const ATOMS = [
  '@', '!', 'role:admin', 'role:ADMIN', 'role:member', 'role:reader', 'role:%(role)s', 'role:%(missing)s',
  'is_admin:True', 'is_admin:False', 'is_admin_project:True', 'project_id:%(project_id)s', 'user_id:%(user_id)s',
  'domain_id:%(domain_id)s', 'project_id:%(missing)s', 'system_scope:all', 'system:all', 'system_scope:None',
  'system:None', 'domain_id:None', 'project_id:None', 'roles:admin', 'roles:Admin', "'member':%(role)s", 'True:%(flag)s',
  'None:%(flag)s', '42:%(n)s', '1.5:%(f)s', '0x10:%(n)s', "'100%':100%%", 'project_id:p%(suffix)s',
  'token.user:x', 'tenant:%(project_id)s', 'user_id:u%(suffix)s',
];

function keyword(g: Gen, word: 'and' | 'or' | 'not'): string {
  return g.pick([word, word, word.toUpperCase(), word[0].toUpperCase() + word.slice(1)]);
}

/** A check string the grammar accepts, with oslo's spacing freedoms: any whitespace, parentheses stuck to words. */
function randomCheck(g: Gen, depth: number, atoms: readonly string[]): string {
  const space = () => g.pick([' ', ' ', '  ', '\t', '\n ']);
  if (depth === 0 || g.chance(30)) return g.pick(atoms);
  switch (g.below(4)) {
    case 0:
      return `${randomCheck(g, depth - 1, atoms)}${space()}${keyword(g, 'and')}${space()}${randomCheck(g, depth - 1, atoms)}`;
    case 1:
      return `${randomCheck(g, depth - 1, atoms)}${space()}${keyword(g, 'or')}${space()}${randomCheck(g, depth - 1, atoms)}`;
    case 2:
      return `${keyword(g, 'not')}${space()}${randomCheck(g, depth - 1, atoms)}`;
    default:
      return g.chance(50) ? `(${randomCheck(g, depth - 1, atoms)})` : `(${space()}${randomCheck(g, depth - 1, atoms)}${space()})`;
  }
}

/** A valid check string, often with one word dropped, added or doubled: both parsers must accept and refuse the same ones. */
function randomSoup(g: Gen): string {
  const words = randomCheck(g, 4, ['role:a', 'project_id:%(project_id)s', '@']).split(/\s+/);
  const at = g.below(words.length + 1);
  switch (g.below(4)) {
    case 0:
      words.splice(at, 1);
      break;
    case 1:
      words.splice(at, 0, g.pick(['and', 'or', 'not', '(', ')', 'role:b', '(role:c', 'role:d)']));
      break;
    case 2:
      words.splice(at, 0, words[Math.min(at, words.length - 1)]);
      break;
  }
  return words.join(' ');
}

const PERSONAS: PolicyCredentials[] = [
  { userId: 'r', projectId: 'p1', roles: ['reader'], isAdmin: false, isAdminProject: false },
  { userId: 'm', projectId: 'p1', roles: ['member', 'reader'], isAdmin: false, isAdminProject: false },
  { userId: 'a', projectId: 'admin', roles: ['admin', 'member', 'reader'], isAdmin: true, isAdminProject: true },
  { userId: 'o', projectId: 'p2', roles: ['member', 'reader'], isAdmin: false, isAdminProject: false },
  { userId: 'nova', projectId: 'service', roles: ['service'], isAdmin: false, isAdminProject: false },
  { userId: 'e', projectId: 'p2', roles: [], isAdmin: true, isAdminProject: false },
  { userId: 's', projectId: null, roles: ['admin'], isAdmin: true, isAdminProject: false, systemScope: 'all' },
  { userId: 'd', projectId: 'p2', domainId: 'd1', roles: ['admin'], isAdmin: false, isAdminProject: false },
];
const TARGETS: PolicyTarget[] = [{ project_id: 'p1', domain_id: 'd1' }, { project_id: 'p2' }, {}];

test('decisions and parses agree with oslo.policy', async (t) => {
  const python = await requireOslo(t);
  if (!python) return;
  const g = generator(SEED);
  const request: OsloRequest = { policies: [], parses: [] };
  const local: Array<(c: Case) => boolean> = [];

  // Cinder's defaults, every enforced rule, for the personas.
  const defaults = Policy.defaults();
  const defaultCases: Case[] = [];
  for (const rule of CINDER_RULES) {
    if (!rule.enforced) continue;
    for (const creds of PERSONAS) for (const target of TARGETS) defaultCases.push({ rule: rule.name, creds, target });
  }
  request.policies.push({ rules: Object.fromEntries(CINDER_RULES.map((rule) => [rule.name, rule.check])), cases: defaultCases });
  local.push((c) => defaults.allows(c.rule as EnforcedRule, c.target, c.creds));

  // Random rule sets loaded from a policy file: each rule may use the ones before it.
  const dir = await tempDir(t);
  for (let set = 0; set < 60; set++) {
    const rules: Record<string, string> = {};
    const names = ['volume:create', 'volume:get', 'volume:delete', 'admin_api', 'volume:extend'];
    names.forEach((name, i) => {
      rules[name] = randomCheck(g, 3, [...ATOMS, ...names.slice(0, i).map((earlier) => `rule:${earlier}`)]);
    });
    const file = join(dir, `policy-${set}.json`);
    await writeFile(file, JSON.stringify(rules));
    const { policy } = Policy.fromFile(file);
    const cases = Array.from({ length: 8 }, () => ({ rule: g.pick(names), creds: randomCreds(g), target: randomTarget(g) }));
    request.policies.push({ rules, cases });
    local.push((c) => policy.allows(c.rule as EnforcedRule, c.target, c.creds));
  }

  for (let i = 0; i < 400; i++) request.parses.push(randomSoup(g));

  const answer = await askOslo(python, request);
  let compared = 0;
  request.policies.forEach((entry, p) => {
    entry.cases.forEach((c, i) => {
      const oslo = answer.decisions[p][i];
      const ours = local[p](c);
      assert.equal(ours, oslo, `rule ${c.rule} = ${JSON.stringify(entry.rules[c.rule])}\ncreds ${JSON.stringify(c.creds)}\ntarget ${JSON.stringify(c.target)}`);
      compared++;
    });
  });
  request.parses.forEach((rule, i) => {
    let ours = true;
    try {
      parseRule(rule);
    } catch (err) {
      if (!(err instanceof PolicyParseError)) throw err;
      ours = false;
    }
    assert.equal(ours, answer.parses[i], `does ${JSON.stringify(rule)} parse?`);
  });
  // Both answers must vary, or the comparison proved nothing.
  const flat = answer.decisions.flat();
  assert.ok(compared >= 2000, `${compared} cases`);
  assert.ok(flat.filter((d) => d === true).length > compared / 5 && flat.filter((d) => d === false).length > compared / 5, 'decisions are mixed');
  assert.ok(answer.parses.filter(Boolean).length > 50 && answer.parses.filter((ok) => !ok).length > 50, 'soups both parse and fail');
});
