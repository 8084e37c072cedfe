import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parseRule, PolicyParseError, type CheckNode } from '../../src/policy/parser.js';

const role = (name: string): CheckNode => ({ type: 'role', role: [name] });
/** A check on a credential (not a literal) against the given match. */
const generic = (kind: string, match: Array<string | { targetKey: string }>): CheckNode => ({
  type: 'generic',
  kind,
  literal: null,
  credentialPath: kind.split('.'),
  match,
});
const A = role('a');
const B = role('b');
const C = role('c');
const D = role('d');

function parseError(rule: string): PolicyParseError {
  try {
    parseRule(rule);
  } catch (err) {
    assert.ok(err instanceof PolicyParseError, `expected a PolicyParseError, got ${String(err)}`);
    return err;
  }
  assert.fail(`"${rule}" parsed, but should not have`);
}

test('the single checks', () => {
  assert.deepEqual(parseRule(''), { type: 'always' });
  assert.deepEqual(parseRule('@'), { type: 'always' });
  assert.deepEqual(parseRule('!'), { type: 'never' });
  assert.deepEqual(parseRule('role:Admin'), role('Admin'));
  assert.deepEqual(parseRule('rule:admin_api'), { type: 'rule', name: 'admin_api' });
  // Only the first colon splits: the rest is the match, colons and all.
  assert.deepEqual(parseRule('rule:volume:create'), { type: 'rule', name: 'volume:create' });
  assert.deepEqual(parseRule('project_id:%(project_id)s'), generic('project_id', [{ targetKey: 'project_id' }]));
  assert.deepEqual(parseRule('is_admin:True'), generic('is_admin', ['True']));
  assert.deepEqual(parseRule('token.user.id:%(user_id)s'), generic('token.user.id', [{ targetKey: 'user_id' }]));
  assert.deepEqual(parseRule('role:%(role)s'), { type: 'role', role: [{ targetKey: 'role' }] });
});

test('substitutions mix with text, and %% is a percent sign', () => {
  assert.deepEqual(parseRule('user_id:u-%(user_id)s-%(project_id)s'), generic('user_id', ['u-', { targetKey: 'user_id' }, '-', { targetKey: 'project_id' }]));
  assert.deepEqual(parseRule('name:100%%'), generic('name', ['100%']));
});

test('a literal on the left is what str(ast.literal_eval(...)) makes of it', () => {
  const literalOf = (word: string) => {
    const node = parseRule(`${word}:%(x)s`);
    assert.equal(node.type, 'generic');
    return node.type === 'generic' ? node.literal : undefined;
  };
  assert.equal(literalOf('True'), 'True');
  assert.equal(literalOf('None'), 'None');
  assert.equal(literalOf("'Member'"), 'Member');
  assert.equal(literalOf('"Member"'), 'Member');
  assert.equal(literalOf('42'), '42');
  assert.equal(literalOf('-7'), '-7');
  assert.equal(literalOf('-0'), '0');
  assert.equal(literalOf('1_000'), '1000');
  assert.equal(literalOf('0x1F'), '31');
  assert.equal(literalOf('0o17'), '15');
  assert.equal(literalOf('0b101'), '5');
  assert.equal(literalOf('1.50'), '1.5');
  assert.equal(literalOf('2.'), '2.0');
  assert.equal(literalOf('.5'), '0.5');
  assert.equal(literalOf('1e3'), '1000.0');
  assert.equal(literalOf('1e16'), '1e+16');
  assert.equal(literalOf('1.5e-5'), '1.5e-05');
  assert.equal(literalOf('0.0001'), '0.0001');
  assert.equal(literalOf('-0.0'), '-0.0');
  assert.equal(literalOf('1e400'), 'inf');
  assert.equal(literalOf('12345678901234567890'), '12345678901234567890');
  // Not literals: credential paths.
  assert.equal(literalOf('is_admin'), null);
  assert.equal(literalOf('Role'), null);
});

test('and, or and not in any case; parentheses on the words', () => {
  assert.deepEqual(parseRule('role:a AND role:b'), { type: 'and', checks: [A, B] });
  assert.deepEqual(parseRule('role:a Or role:b'), { type: 'or', checks: [A, B] });
  assert.deepEqual(parseRule('NOT role:a'), { type: 'not', check: A });
  assert.deepEqual(parseRule('((role:a))'), A);
  assert.deepEqual(parseRule('(role:a or role:b) and role:c'), { type: 'and', checks: [{ type: 'or', checks: [A, B] }, C] });
  // Words are cut at whitespace only, as oslo cuts them: "role:b)and" is one role check.
  assert.deepEqual(parseRule('(role:a or role:b)and)'), { type: 'or', checks: [A, role('b)and')] });
  // The trailing ")" is peeled off; the "(...)" inside %(...)s is not.
  assert.deepEqual(parseRule('(project_id:%(project_id)s)'), generic('project_id', [{ targetKey: 'project_id' }]));
  assert.deepEqual(parseRule('\trole:a\n or\u00a0role:b  '), { type: 'or', checks: [A, B] });
});

test("precedence is oslo's: not, then and, then or; chains are flat", () => {
  assert.deepEqual(parseRule('role:a or role:b and role:c'), { type: 'or', checks: [A, { type: 'and', checks: [B, C] }] });
  assert.deepEqual(parseRule('role:a and role:b or role:c and role:d'), {
    type: 'or',
    checks: [
      { type: 'and', checks: [A, B] },
      { type: 'and', checks: [C, D] },
    ],
  });
  assert.deepEqual(parseRule('not role:a and role:b'), { type: 'and', checks: [{ type: 'not', check: A }, B] });
  assert.deepEqual(parseRule('not (role:a and role:b)'), { type: 'not', check: { type: 'and', checks: [A, B] } });
  assert.deepEqual(parseRule('not not role:a'), { type: 'not', check: { type: 'not', check: A } });
  assert.deepEqual(parseRule('role:a and role:b and role:c'), { type: 'and', checks: [A, B, C] });
  assert.deepEqual(parseRule('role:a or role:b or role:c'), { type: 'or', checks: [A, B, C] });
  assert.deepEqual(parseRule('role:a and (role:b or role:c)'), { type: 'and', checks: [A, { type: 'or', checks: [B, C] }] });
});

test('errors say what was expected, and where', () => {
  const cases: Array<[rule: string, message: RegExp, column: number]> = [
    ['role:admin and', /expected a check, "not" or "\(" after "and", found the end of the string/, 15],
    ['or role:admin', /expected a check, "not" or "\(", found "or"/, 1],
    ['role:a role:b', /expected "and", "or" or the end of the string, found "role:b"/, 8],
    ['(role:admin', /expected "and", "or" or "\)" to close the "\(" at column 1, found the end of the string/, 12],
    ['role:admin)', /found "\)" with no "\(" open/, 11],
    ['()', /expected a check, "not" or "\(" after "\(", found "\)"/, 2],
    ['not', /after "not", found the end of the string/, 4],
    ['admin', /expected a check \(kind:value, "@" or "!"\), found "admin"/, 1],
    ['role:a or http://policy.example/check', /"http:" checks \(asking a remote policy server\) are not supported/, 11],
    ['https://x', /"https:" checks/, 1],
    ["role:a or 'admin'", /found 'admin', which oslo reads as a quoted string/, 11],
    ['project_id:%(project_id)d', /expected %\(name\)s or %% after "%"/, 12],
    ['name:50%', /expected %\(name\)s or %%/, 8],
    ['1a:x', /expected a credential key \(such as project_id\) or a literal/, 1],
    ['class:x', /contains a Python keyword/, 1],
    [':x', /expected a credential key/, 1],
    ['role:', /expected a role name after "role:"/, 6],
    ['rule:', /expected a rule name after "rule:"/, 6],
    ['   ', /found only whitespace \(write "" to allow everyone, "!" to allow no one\)/, 1],
  ];
  for (const [rule, message, column] of cases) {
    const err = parseError(rule);
    assert.match(err.message, message, rule);
    assert.equal(err.column, column, `column for ${JSON.stringify(rule)}: ${err.message}`);
    assert.match(err.message, new RegExp(`\\(at column ${column}\\)$`), rule);
  }
});
