// A rule marked enforced must be asked somewhere outside the policy engine: otherwise the
// table (and `cinderblock policy`, and the closing of an operator's policy file) promises a
// check that no request makes.
import assert from 'node:assert/strict';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { CINDER_RULES } from '../../src/policy/index.js';

const SRC = join(dirname(fileURLToPath(import.meta.url)), '..', '..', '..', 'src');

function sources(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) return name === 'policy' ? [] : sources(path);
    return name.endsWith('.ts') ? [readFileSync(path, 'utf8')] : [];
  });
}

test('every enforced API rule is checked by the code that serves it', () => {
  const code = sources(SRC).join('\n');
  // Base rules (admin_api, ...) are enforced through the API rules whose checks name them.
  const apiRules = CINDER_RULES.filter((rule) => rule.enforced && rule.name.includes(':')).map((rule) => rule.name);
  const unasked = apiRules.filter((name) => !code.includes(`'${name}'`));
  assert.deepEqual(unasked, []);
});
