#!/usr/bin/env node
// Summarises a V8 .cpuprofile (node --cpu-prof) of the bench target: where the busy time
// went, by function, both self time and time including callees. Idle time is left out of
// the percentages so that a target that waited on the initiator does not look efficient.
//
// Usage: node bench/datapath-profile.mjs PROFILE.cpuprofile [TOP=25]

import { readFileSync } from 'node:fs';
import { relative } from 'node:path';

const [file, topArg] = process.argv.slice(2);
if (!file) {
  console.error('usage: node bench/datapath-profile.mjs PROFILE.cpuprofile [TOP]');
  process.exit(2);
}
const top = Number(topArg ?? 25);
const profile = JSON.parse(readFileSync(file, 'utf8'));

const byId = new Map();
const parentOf = new Map();
for (const node of profile.nodes) {
  byId.set(node.id, node);
  for (const child of node.children ?? []) parentOf.set(child, node.id);
}

const cwd = process.cwd();
function keyOf(node) {
  const { functionName, url, lineNumber } = node.callFrame;
  const name = functionName || '(anonymous)';
  if (!url) return name;
  const path = url.startsWith('file://') ? relative(cwd, new URL(url).pathname) : url;
  return `${name} ${path}:${lineNumber + 1}`;
}

const self = new Map();
const total = new Map();
let busy = 0;
let idle = 0;
const { samples, timeDeltas } = profile;
for (let i = 0; i < samples.length; i++) {
  // timeDeltas[i] is the gap before sample i; attribute it to that sample.
  const dt = Math.max(0, timeDeltas[i] ?? 0);
  const leaf = byId.get(samples[i]);
  if (leaf.callFrame.functionName === '(idle)') {
    idle += dt;
    continue;
  }
  busy += dt;
  const leafKey = keyOf(leaf);
  self.set(leafKey, (self.get(leafKey) ?? 0) + dt);
  // A recursive function appears on the stack more than once but costs the sample once.
  const seen = new Set();
  for (let id = samples[i], depth = 0; id !== undefined && depth < 1000; id = parentOf.get(id), depth++) {
    const key = keyOf(byId.get(id));
    if (key === '(root)' || seen.has(key)) continue;
    seen.add(key);
    total.set(key, (total.get(key) ?? 0) + dt);
  }
}

const ms = (us) => (us / 1000).toFixed(0).padStart(7);
const pct = (us) => ((100 * us) / (busy || 1)).toFixed(1).padStart(5);
function print(title, map) {
  console.log(`\n${title}`);
  const rows = [...map.entries()].sort((a, b) => b[1] - a[1]).slice(0, top);
  for (const [key, us] of rows) console.log(`${ms(us)} ms ${pct(us)} %  ${key}`);
}

console.log(`busy ${ms(busy).trim()} ms, idle ${ms(idle).trim()} ms (percentages are of busy time)`);
print('self time', self);
print('total time (self + callees)', total);
