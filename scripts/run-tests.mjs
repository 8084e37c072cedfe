#!/usr/bin/env node
// Runs every compiled test file under dist/test (or those named on the command
// line) with node's test runner. Node 20's --test takes no globs, so the file list
// is gathered here.
import { readdirSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { spawnSync } from 'node:child_process';

function collect(dir, out) {
  for (const name of readdirSync(dir)) {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) collect(path, out);
    else if (name.endsWith('.test.js')) out.push(path);
  }
  return out;
}

const roots = process.argv.slice(2);
const files = (roots.length ? roots : ['dist/test']).flatMap((root) =>
  statSync(root).isDirectory() ? collect(root, []) : [root],
).sort();
if (files.length === 0) {
  console.error('no test files found; run `npm run build` first');
  process.exit(1);
}
const concurrency = process.env.TEST_CONCURRENCY ?? '2';
const result = spawnSync(
  process.execPath,
  ['--test', `--test-concurrency=${concurrency}`, '--test-reporter=spec', ...files.map((f) => resolve(f))],
  { stdio: 'inherit' },
);
process.exit(result.status ?? 1);
