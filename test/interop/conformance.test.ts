// libiscsi's conformance suite (iscsi-test-cu) against our target: every test of the
// ALL tree in its own process, as ../shared/tools/conformance.sh does, because results
// depend on test order when one process runs them all. Each test's outcome must match
// conformance-expected.json, where every expected failure or skip says why; a test that
// starts passing fails here too, so the file stays honest.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { dirname, join } from 'node:path';

import { requireTool } from '../helpers/env.js';
import { IQN, startTarget } from '../iscsi/interop-fixture.js';

const INITIATOR_1 = 'iqn.2007-10.com.github:sahlberg:libiscsi:iscsi-test';
const INITIATOR_2 = 'iqn.2007-10.com.github:sahlberg:libiscsi:iscsi-test-2';
const READ_ONLY_IQN = `${IQN}-ro`;
/** Families that need a write-protected LUN run against a second target whose access is read-only. */
const READ_ONLY_FAMILIES = new Set(['ReadOnly']);
/** Families that need a second path to the same LUN get the URL twice. */
const MULTIPATH_FAMILIES = new Set(['MultipathIO']);
const PER_TEST_TIMEOUT_MS = 30_000;

type Outcome = 'pass' | 'fail' | 'skip';

interface Expectation {
  expect: Outcome | Outcome[];
  reason: string;
}

const here = dirname(fileURLToPath(import.meta.url));
// The compiled test runs from dist/test/interop; the expectations live beside the source.
const EXPECTED_PATH = join(here, '..', '..', '..', 'test', 'interop', 'conformance-expected.json');

function runCu(tool: string, args: string[]): Promise<{ code: number | null; output: string; timedOut: boolean }> {
  return new Promise((resolve) => {
    execFile(tool, args, { timeout: PER_TEST_TIMEOUT_MS, killSignal: 'SIGKILL', maxBuffer: 8 << 20 }, (err, stdout, stderr) => {
      const timedOut = Boolean(err && (err as NodeJS.ErrnoException & { killed?: boolean }).killed);
      const code = err ? (typeof err.code === 'number' ? err.code : null) : 0;
      resolve({ code, output: `${stdout}${stderr}`, timedOut });
    });
  });
}

/** Reads CUnit's summary the way conformance.sh does: a pass that printed [SKIPPED] is a skip. */
function classify(output: string, timedOut: boolean): { outcome: Outcome; detail: string } {
  if (timedOut) return { outcome: 'fail', detail: 'timed out' };
  const summary = output.split('\n').filter((l) => /^\s*tests\s+\d+\s+\d+\s+\d+\s+\d+/.test(l)).pop();
  if (!summary) return { outcome: 'fail', detail: `no CUnit summary: ${output.slice(-300)}` };
  const [, , ran, , failed] = summary.trim().split(/\s+/).map(Number);
  if (ran === 0) return { outcome: 'fail', detail: 'test did not run' };
  if (failed !== 0) {
    const reason = output.split('\n').find((l) => l.includes('[FAILED]')) ?? output.split('\n').find((l) => /^\s+\d+\.\s/.test(l)) ?? '';
    return { outcome: 'fail', detail: reason.trim() };
  }
  const skipped = output.split('\n').find((l) => l.includes('[SKIPPED]'));
  if (skipped) return { outcome: 'skip', detail: skipped.trim() };
  return { outcome: 'pass', detail: '' };
}

test('iscsi-test-cu: every test of the ALL tree matches conformance-expected.json', { timeout: 240_000 }, async (t) => {
  const tool = requireTool(t, 'iscsi-test-cu');
  if (!tool) return;
  const expected = JSON.parse(readFileSync(EXPECTED_PATH, 'utf8')) as Record<string, Expectation>;
  for (const [name, e] of Object.entries(expected)) {
    assert.ok(e.reason && e.reason.length > 10, `${name} needs a reason`);
  }

  const fx = await startTarget(t, { sizeBytes: 128 << 20 });
  for (const initiator of [INITIATOR_1, INITIATOR_2]) fx.server.allowInitiator(IQN, initiator);
  fx.server.addTarget({ iqn: READ_ONLY_IQN, luns: new Map([[0, fx.lu]]) });
  for (const initiator of [INITIATOR_1, INITIATOR_2]) fx.server.allowInitiator(READ_ONLY_IQN, initiator, { readOnly: true });
  const url = fx.url();
  const readOnlyUrl = url.replace(IQN, READ_ONLY_IQN);

  const list = await runCu(tool, ['-l']);
  const tests = list.output
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => /^ALL\.[^.]+\.[^.]+$/.test(l));
  assert.ok(tests.length > 200, `iscsi-test-cu -l listed ${tests.length} tests`);
  for (const name of Object.keys(expected)) assert.ok(tests.includes(name), `${name} in the expectations is not a test of this iscsi-test-cu`);

  const families = new Map<string, Record<Outcome, number>>();
  const mismatches: string[] = [];
  for (const name of tests) {
    const family = name.split('.')[1];
    const target = READ_ONLY_FAMILIES.has(family) ? readOnlyUrl : url;
    const args = ['--dataloss', '-i', INITIATOR_1, '-I', INITIATOR_2, '-t', name, target];
    if (MULTIPATH_FAMILIES.has(family)) args.push(target);
    const { output, timedOut } = await runCu(tool, args);
    const { outcome, detail } = classify(output, timedOut);
    const counts = families.get(family) ?? { pass: 0, fail: 0, skip: 0 };
    counts[outcome]++;
    families.set(family, counts);
    const want = expected[name]?.expect ?? 'pass';
    const allowed = Array.isArray(want) ? want : [want];
    if (!allowed.includes(outcome)) mismatches.push(`${name}: expected ${allowed.join('|')}, got ${outcome}${detail ? ` (${detail})` : ''}`);
  }

  const total = { pass: 0, fail: 0, skip: 0 };
  for (const [family, c] of families) {
    t.diagnostic(`${family.padEnd(24)} passed ${c.pass} failed ${c.fail} skipped ${c.skip}`);
    total.pass += c.pass;
    total.fail += c.fail;
    total.skip += c.skip;
  }
  t.diagnostic(`iscsi-test-cu totals: pass ${total.pass}, fail ${total.fail}, skip ${total.skip}`);
  assert.deepEqual(mismatches, []);
});
