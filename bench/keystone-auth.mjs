#!/usr/bin/env node
// What Keystone authentication costs: the seed's attach/detach cycles per second against
// `cinderblock serve` with auth_strategy keystone and against one with noauth, in the same
// run, with the same client, runs of the two alternating so that a machine busy for a while
// slows both alike. Also how many times Keystone was asked to validate a token per 1,000
// requests carrying it (read from the service's metrics).
//
//   node bench/keystone-auth.mjs [--n 2000] [--clients 8] [--repeat 3] [--warmup 20] [--json FILE]
//
// Keystone is a real one (Debian's keystone package, started from the test suite's
// harness in dist/test/helpers: run `npm run build` first). In keystone mode the calls
// carry a project member's token and, as Nova's do, Nova's service token; noauth calls
// carry the usual "admin:<project>" token.
import { mkdtempSync, rmSync, writeFileSync, existsSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { loadavg, tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { FLOWS, cpuSecondsOf, freePort, makeClient, medianRun, recover, runFlow, startProcess, waitAvailable } from './lib/cycles.mjs';

const REPO = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const CLI = join(REPO, 'dist/src/cli/main.js');
const HARNESS = join(REPO, 'dist/test/helpers/keystone.js');

const { values: opt } = parseArgs({
  options: {
    n: { type: 'string', default: '2000' },
    clients: { type: 'string', default: '8' },
    repeat: { type: 'string', default: '3' },
    warmup: { type: 'string', default: '20' },
    json: { type: 'string' },
    help: { type: 'boolean', short: 'h', default: false },
  },
});
if (opt.help) {
  process.stdout.write(`${(await import('node:fs')).readFileSync(fileURLToPath(import.meta.url), 'utf8').split('\n').slice(1).filter((l) => l.startsWith('//')).map((l) => l.replace(/^\/\/ ?/, '')).join('\n')}\n`);
  process.exit(0);
}
const N = Number(opt.n);
const CLIENTS = Number(opt.clients);
const REPEAT = Math.max(1, Number(opt.repeat));
const WARMUP = Number(opt.warmup);
/** Requests each cycle makes, for validations per 1,000 requests. */
const CALLS_PER_CYCLE = { legacy: 6, attachments: 3 };

const progress = (line) => process.stderr.write(`[bench] ${line}\n`);
const cleanups = [];
async function cleanUp() {
  while (cleanups.length) await cleanups.pop()().catch((err) => progress(`cleanup: ${err.message}`));
}
for (const signal of ['SIGINT', 'SIGTERM']) process.on(signal, () => cleanUp().finally(() => process.exit(130)));

/** The harness is written for node:test; the bench stands in for the test context. */
function benchContext() {
  return {
    after: (fn) => cleanups.push(async () => fn()),
    diagnostic: (text) => progress(text),
    skip: (why) => {
      throw new Error(`cannot start Keystone: ${why}`);
    },
  };
}

async function startService(name, args) {
  const dataDir = mkdtempSync(join(tmpdir(), 'cinderblock-bench-ks-'));
  const apiPort = await freePort();
  const metricsPort = await freePort();
  const all = ['serve', '--data-dir', dataDir, '--api-listen', `127.0.0.1:${apiPort}`, '--iscsi-listen', `127.0.0.1:${await freePort()}`, '--metrics-listen', `127.0.0.1:${metricsPort}`, '--log-level', 'warn', ...args];
  const { proc } = await startProcess(CLI, name, all);
  cleanups.push(async () => {
    const exited = new Promise((r) => proc.once('exit', r));
    proc.kill('SIGTERM');
    await exited;
    rmSync(dataDir, { recursive: true, force: true });
  });
  return { endpoint: `http://127.0.0.1:${apiPort}/v3`, metrics: `http://127.0.0.1:${metricsPort}/metrics`, pid: proc.pid };
}

async function validations(metricsUrl) {
  const text = await (await fetch(metricsUrl)).text();
  let total = 0;
  for (const m of text.matchAll(/^cinderblock_keystone_calls_total\{call="validate",outcome="\w+"\} (\d+)/gm)) total += Number(m[1]);
  return total;
}

async function prepare(target) {
  const apis = [makeClient(target.endpoint, target.project, target.token, target.serviceToken)];
  const admin = makeClient(target.endpoint, target.project, target.adminToken, target.serviceToken);
  const volumes = [];
  for (let i = 0; i < CLIENTS; i++) volumes.push((await apis[0].request('POST', '/volumes', { volume: { size: 1, name: `bench-${i}` } }, '3.0')).volume.id);
  for (const v of volumes) await waitAvailable(apis[0], v);
  cleanups.push(async () => {
    for (const v of volumes) {
      await recover(admin, v);
      await admin.request('DELETE', `/volumes/${v}`, undefined, '3.0').catch(() => undefined);
    }
    for (const c of [...apis, admin]) c.close();
  });
  return { ...target, apis, admin, volumes };
}

async function measure(target, flow, clients) {
  const before = target.metrics ? await validations(target.metrics) : null;
  const load = loadavg()[0];
  const run = await runFlow(target.apis, flow, target.volumes.slice(0, clients), N, () => cpuSecondsOf(target.pid), { warmup: WARMUP, recoverApi: target.admin });
  run.loadavg = load;
  if (before !== null) {
    const requests = (run.completed + Math.min(WARMUP, N)) * CALLS_PER_CYCLE[flow];
    run.validationsPer1000 = ((await validations(target.metrics)) - before) / (requests / 1000);
  }
  progress(`${target.name}: ${flow} x${clients}: ${run.cyclesPerSecond.toFixed(1)} cycles/s, ${run.errors} errors`);
  return run;
}

const fmt = (x, d = 1) => (x === undefined || x === null || Number.isNaN(x) ? '-' : x.toFixed(d));

let exitCode = 0;
try {
  if (!existsSync(CLI) || !existsSync(HARNESS)) throw new Error('the build is missing: run "npm run build" first');
  const { startKeystone } = await import(HARNESS);
  progress('starting Keystone');
  const ks = await startKeystone(benchContext());
  const passwordDir = mkdtempSync(join(tmpdir(), 'cinderblock-bench-secret-'));
  cleanups.push(async () => rmSync(passwordDir, { recursive: true, force: true }));
  const passwordFile = join(passwordDir, 'password');
  writeFileSync(passwordFile, ks.users.cinder.password, { mode: 0o600 });
  const [alice, carol, nova] = await Promise.all(['alice', 'carol', 'nova'].map(async (u) => (await ks.token(u)).token));
  const project = randomBytes(16).toString('hex');
  const noauthService = await startService('noauth', []);
  const keystoneService = await startService('keystone', ['--auth-strategy', 'keystone', '--keystone-url', ks.url, '--keystone-password-file', passwordFile]);
  const targets = [
    await prepare({ name: 'noauth', ...noauthService, project, token: `admin:${project}`, adminToken: `admin:${project}`, serviceToken: 'svc', metrics: null }),
    await prepare({ name: 'keystone', ...keystoneService, project: ks.projects.demo.id, token: alice, adminToken: carol, serviceToken: nova }),
  ];
  const rows = [];
  for (const clients of [...new Set([1, CLIENTS])]) {
    for (const flow of Object.keys(FLOWS)) {
      const runs = { noauth: [], keystone: [] };
      for (let k = 0; k < REPEAT; k++) for (const target of targets) runs[target.name].push(await measure(target, flow, clients));
      rows.push({ flow, clients, noauth: medianRun(runs.noauth), keystone: medianRun(runs.keystone), validations: runs.keystone.map((r) => r.validationsPer1000) });
    }
  }
  const lines = ['', `cycles per second, noauth and keystone in the same run (N=${N} per run, median of ${REPEAT}, range in parentheses, errors in brackets)`, ''];
  lines.push('| flow | clients | noauth | keystone | keystone / noauth | CPU ms per cycle noauth / keystone | Keystone validations per 1,000 requests |', '|---|---|---|---|---|---|---|');
  for (const r of rows) {
    const cell = (m) => `${fmt(m.cyclesPerSecond)} (${fmt(Math.min(...m.runs))}-${fmt(Math.max(...m.runs))})${m.errors ? ` [${m.errors}]` : ''}`;
    lines.push(
      `| ${r.flow} | ${r.clients} | ${cell(r.noauth)} | ${cell(r.keystone)} | ${fmt((100 * r.keystone.cyclesPerSecond) / r.noauth.cyclesPerSecond, 0)} % | ${fmt(r.noauth.cpuMsPerCycle, 2)} / ${fmt(r.keystone.cpuMsPerCycle, 2)} | ${r.validations.map((v) => fmt(v, 3)).join(', ')} |`,
    );
  }
  lines.push('', `Keystone validations over the whole run: ${await validations(keystoneService.metrics)} (tokens used: a member's, an administrator's, Nova's)`);
  lines.push('', `load average now ${loadavg().map((x) => x.toFixed(2)).join(' ')}`);
  process.stdout.write(`${lines.join('\n')}\n`);
  if (opt.json) writeFileSync(opt.json, JSON.stringify({ date: new Date().toISOString(), argv: process.argv.slice(2), rows }, null, 1));
  if (rows.some((r) => r.noauth.errors || r.keystone.errors)) exitCode = 1;
} catch (err) {
  process.stderr.write(`bench failed: ${err.stack ?? err}\n`);
  exitCode = 1;
} finally {
  await cleanUp();
}
process.exit(exitCode);
