#!/usr/bin/env node
// Control-plane benchmark: attach/detach cycles per second against Cinderblock and,
// in the same run and with the same client, against real OpenStack Cinder.
//
//   node bench/control-plane.mjs [--n 2000] [--real-n 100] [--clients 8] [--repeat 3] [--postgres | --database URL]
//                                [--real-cinder-endpoint URL --real-cinder-project HEX [--real-cinder-state DIR]]
//                                [--real-cinder-script PATH | --no-real-cinder] [--json FILE]
//                                [--cinderblock-endpoint URL]   (an already running service instead of starting one)
//                                [--api-services N [--rpc AMQP_URL]]   (split: one volume service and N API services,
//                                                                       on PostgreSQL; clients spread over the API services)
//
// Flows, one volume per client, every cycle on that client's volume:
//   legacy       the six volume actions Nova sends at microversion 3.0 (no version header):
//                os-reserve, os-initialize_connection, os-attach, os-begin_detaching,
//                os-terminate_connection, os-detach
//   attachments  POST /attachments with a connector at 3.54, os-complete, DELETE
// Each flow runs with 1 client and with --clients clients, --repeat times each; the table
// gives the median run and the range. Requests carry X-Service-Token,
// as Nova's do, because Cinder refuses to delete in-use attachments without one.
//
// Real Cinder is measured only when it is reachable: given with --real-cinder-endpoint, or
// started (and stopped afterwards) with run-real-cinder.sh, found next to this repository
// in ../shared/tools or given with --real-cinder-script. Otherwise the table says why not.
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, readFileSync, writeFileSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir, loadavg, cpus } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { cpuSecondsOf, FLOWS, freePort, makeClient, medianRun, memoryOf, recover, runFlow, startProcess, waitAvailable } from './lib/cycles.mjs';

const REPO = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const CLI = join(REPO, 'dist/src/cli/main.js');

const { values: opt } = parseArgs({
  options: {
    n: { type: 'string', default: '2000' },
    'real-n': { type: 'string', default: '100' },
    clients: { type: 'string', default: '8' },
    warmup: { type: 'string', default: '20' },
    repeat: { type: 'string', default: '3' },
    database: { type: 'string' },
    postgres: { type: 'boolean', default: false },
    'postgres-admin-url': { type: 'string', default: 'postgres://postgres@127.0.0.1:5432/postgres' },
    'log-level': { type: 'string', default: 'info' },
    'cinderblock-endpoint': { type: 'string' },
    'api-services': { type: 'string' },
    rpc: { type: 'string', default: 'amqp://guest:guest@127.0.0.1:5672' },
    'real-cinder-endpoint': { type: 'string' },
    'real-cinder-project': { type: 'string', default: 'ee4f3bd8b0a24e6c8e2a5e6ee3a7c1c0' },
    'real-cinder-state': { type: 'string' },
    'real-cinder-script': { type: 'string', default: resolve(REPO, '../shared/tools/run-real-cinder.sh') },
    'no-real-cinder': { type: 'boolean', default: false },
    json: { type: 'string' },
    help: { type: 'boolean', short: 'h', default: false },
  },
});
if (opt.help) {
  const source = readFileSync(fileURLToPath(import.meta.url), 'utf8').split('\n').slice(1);
  const header = source.slice(0, source.findIndex((l) => !l.startsWith('//')));
  process.stdout.write(header.map((l) => l.replace(/^\/\/ ?/, '')).join('\n') + '\n');
  process.exit(0);
}
const N = Number(opt.n);
const REAL_N = Number(opt['real-n']);
const CLIENTS = Number(opt.clients);
const WARMUP = Number(opt.warmup);
const REPEAT = Math.max(1, Number(opt.repeat));

// ---------------------------------------------------------------- measuring

/** Sequential, then concurrent, for both flows; volumes are created up front and deleted at the end. */
async function measure(target, cycles) {
  // Client i talks to API service i modulo their number.
  const apis = target.endpoints.map((endpoint) => makeClient(endpoint, target.project, `admin:${target.project}`));
  const api = apis[0];
  const volumes = [];
  const results = [];
  try {
    for (let i = 0; i < CLIENTS; i++) {
      volumes.push((await api.request('POST', '/volumes', { volume: { size: 1, name: `bench-${i}` } }, '3.0')).volume.id);
    }
    for (const v of volumes) await waitAvailable(api, v);
    for (const clients of [...new Set([1, CLIENTS])]) {
      for (const flow of Object.keys(FLOWS)) {
        const runs = [];
        for (let k = 0; k < REPEAT; k++) {
          const loadBefore = loadavg()[0];
          const run = await runFlow(apis, flow, volumes.slice(0, clients), cycles, target.cpuSeconds, { warmup: WARMUP });
          run.loadavg = [loadBefore, loadavg()[0]];
          runs.push(run);
          progress(`${target.name}: ${flow} x${clients}: ${run.cyclesPerSecond.toFixed(1)} cycles/s, ${run.errors} errors`);
        }
        results.push(medianRun(runs));
      }
    }
  } finally {
    for (const v of volumes) {
      await recover(api, v);
      await api.request('DELETE', `/volumes/${v}`, undefined, '3.0').catch((err) => progress(`cleanup of ${v}: ${err.message}`));
    }
    for (const client of apis) client.close();
  }
  return results;
}

function progress(line) {
  process.stderr.write(`[bench] ${line}\n`);
}

// ---------------------------------------------------------------- memory

const REAL_CINDER_PIDFILES = {
  'cinder-api': 'cinder-api.pid',
  'cinder-scheduler': 'cinder-scheduler.pid',
  'cinder-volume': 'cinder-volume.pid',
  rabbitmq: 'rabbit/server.pid',
  epmd: 'rabbit/epmd.pid',
  mariadb: 'mysql/server.pid',
};

/** Each running part of real Cinder (by the PID files run-real-cinder.sh writes): [name, pid]. */
function realCinderProcesses(stateDir) {
  if (!stateDir || !existsSync(stateDir)) return [];
  return Object.entries(REAL_CINDER_PIDFILES)
    .map(([name, file]) => [name, join(stateDir, file)])
    .filter(([, path]) => existsSync(path))
    .map(([name, path]) => [name, Number(readFileSync(path, 'utf8').trim())])
    .filter(([, pid]) => pid && existsSync(`/proc/${pid}`));
}

function realCinderCpuSeconds(stateDir) {
  const processes = realCinderProcesses(stateDir);
  if (!processes.length) return null;
  return processes.reduce((total, [, pid]) => total + (cpuSecondsOf(pid) ?? 0), 0);
}

function realCinderMemory(stateDir) {
  const processes = realCinderProcesses(stateDir);
  return processes.length ? Object.fromEntries(processes.map(([name, pid]) => [name, memoryOf(pid)])) : null;
}

// ---------------------------------------------------------------- targets

async function createPostgresDatabase() {
  const { default: pg } = await import('pg');
  const admin = new pg.Client({ connectionString: opt['postgres-admin-url'] });
  await admin.connect();
  const name = `cinderblock_bench_${randomBytes(6).toString('hex')}`;
  await admin.query(`CREATE DATABASE ${name}`);
  await admin.end();
  const url = new URL(opt['postgres-admin-url']);
  url.pathname = `/${name}`;
  return {
    url: url.toString(),
    async drop() {
      const c = new pg.Client({ connectionString: opt['postgres-admin-url'] });
      await c.connect();
      await c.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
      await c.end();
    },
  };
}

async function startCinderblock() {
  if (opt['cinderblock-endpoint']) {
    return { name: 'cinderblock', endpoints: [opt['cinderblock-endpoint']], project: randomBytes(16).toString('hex'), database: 'as configured', memory: () => null, cpuSeconds: () => null, stop: async () => {} };
  }
  if (!existsSync(CLI)) throw new Error(`${CLI} is missing: run "npm run build" first`);
  const apiServices = opt['api-services'] === undefined ? 0 : Number(opt['api-services']);
  if (!Number.isInteger(apiServices) || apiServices < 0) throw new Error(`--api-services must be a whole number, got ${opt['api-services']}`);
  const dataDir = mkdtempSync(join(tmpdir(), 'cinderblock-bench-'));
  const pgdb = opt.postgres ? await createPostgresDatabase() : null;
  const database = pgdb?.url ?? opt.database;
  const logLevel = ['--log-level', opt['log-level']];
  const processes = [];
  const stop = async () => {
    for (const { proc } of [...processes].reverse()) {
      if (proc.exitCode !== null) continue;
      const exited = new Promise((r) => proc.once('exit', r));
      proc.kill('SIGTERM');
      const timer = setTimeout(() => proc.kill('SIGKILL'), 10_000);
      await exited;
      clearTimeout(timer);
    }
    rmSync(dataDir, { recursive: true, force: true });
    await pgdb?.drop();
  };
  const endpoints = [];
  try {
    const storage = ['--data-dir', dataDir, '--iscsi-listen', `127.0.0.1:${await freePort()}`];
    if (apiServices === 0) {
      const apiPort = await freePort();
      const args = ['serve', ...storage, '--api-listen', `127.0.0.1:${apiPort}`, ...logLevel];
      if (database) args.push('--database', database);
      processes.push(await startProcess(CLI, 'cinderblock', args));
      endpoints.push(`http://127.0.0.1:${apiPort}/v3`);
    } else {
      if (!database?.startsWith('postgres')) throw new Error('--api-services needs PostgreSQL: add --postgres or --database postgres://...');
      const split = ['--database', database, '--rpc', opt.rpc, ...logLevel];
      processes.push(await startProcess(CLI, 'volume', ['volume', ...storage, ...split, '--host', `bench-${randomBytes(4).toString('hex')}`]));
      for (let i = 1; i <= apiServices; i++) {
        const apiPort = await freePort();
        processes.push(await startProcess(CLI, `api ${i}`, ['api', '--api-listen', `127.0.0.1:${apiPort}`, ...split]));
        endpoints.push(`http://127.0.0.1:${apiPort}/v3`);
      }
    }
  } catch (err) {
    await stop();
    throw err;
  }
  const cpuSeconds = () => {
    let total = 0;
    for (const { proc } of processes) {
      const seconds = cpuSecondsOf(proc.pid);
      if (seconds === null) return null;
      total += seconds;
    }
    return total;
  };
  return {
    name: 'cinderblock',
    endpoints,
    project: randomBytes(16).toString('hex'),
    database: `${database ? database.replace(/\/\/([^:@/]+):[^@/]*@/, '//$1:***@') : 'sqlite (default)'}${apiServices ? `, ${apiServices} API services and a volume service over RabbitMQ` : ''}`,
    memory: () => Object.fromEntries(processes.map(({ name, proc }) => [name, memoryOf(proc.pid)])),
    cpuSeconds,
    stop,
  };
}

/** Returns a target, or a string saying why real Cinder is not measured. */
async function realCinderTarget() {
  if (opt['no-real-cinder']) return 'disabled with --no-real-cinder';
  if (opt['real-cinder-endpoint']) {
    return {
      name: 'real Cinder',
      endpoints: [opt['real-cinder-endpoint']],
      project: opt['real-cinder-project'],
      memory: () => realCinderMemory(opt['real-cinder-state']),
      cpuSeconds: () => realCinderCpuSeconds(opt['real-cinder-state']),
      stop: async () => {},
    };
  }
  const script = opt['real-cinder-script'];
  if (!existsSync(script)) return `no --real-cinder-endpoint and no start script at ${script}`;
  const stopScript = join(dirname(script), 'stop-real-cinder.sh');
  // A private state dir and API port, so an instance someone else is running is never touched.
  const state = mkdtempSync(join(tmpdir(), 'bench-realcinder-'));
  const env = { ...process.env, CINDER_STATE: state, CINDER_API_PORT: String(await freePort()) };
  progress(`starting real Cinder with ${script} (state ${state})`);
  const proc = spawn('bash', [script], { env, stdio: ['ignore', 'pipe', 'pipe'] });
  const scriptExited = new Promise((r) => proc.once('exit', r));
  const stop = async () => {
    // Interrupted mid-start: the script must not start more services after the stop script ran.
    if (proc.exitCode === null && proc.signalCode === null) {
      proc.kill('SIGTERM');
      await scriptExited;
    }
    await new Promise((r) => spawn('bash', [stopScript], { env, stdio: 'ignore' }).once('exit', r));
    rmSync(state, { recursive: true, force: true });
  };
  // Registered before the start completes, so Ctrl-C during those 20 s still cleans up.
  const target = { name: 'real Cinder', stop };
  targets.push(target);
  let output = '';
  proc.stdout.setEncoding('utf8').on('data', (c) => (output += c));
  proc.stderr.setEncoding('utf8').on('data', (c) => (output += c));
  const code = await scriptExited;
  const ready = /REAL_CINDER_READY endpoint=(\S+) project=(\S+)/.exec(output);
  if (code !== 0 || !ready) {
    await stop();
    targets.splice(targets.indexOf(target), 1);
    return `${script} exited with ${code}: ${output.trim().split('\n').slice(-3).join(' | ')}`;
  }
  return Object.assign(target, { endpoints: [ready[1]], project: ready[2], memory: () => realCinderMemory(state), cpuSeconds: () => realCinderCpuSeconds(state) });
}

// ---------------------------------------------------------------- report

const fmt = (x, digits = 1) => (x === undefined || x === null || Number.isNaN(x) ? '-' : x.toFixed(digits));
const mib = (kib) => (Number.isNaN(kib) ? '-' : (kib / 1024).toFixed(0));

function report(ours, real, reason, memory) {
  const lines = [];
  const find = (results, flow, clients) => results?.find((r) => r.flow === flow && r.clients === clients);
  lines.push('', `cycles per second (cinderblock N=${N}, real Cinder N=${REAL_N}; median of ${REPEAT} runs, their range in parentheses; errors in brackets)`, '');
  // The machine is shared: the 1-minute load average at the start of each run says how quiet it was.
  lines.push(`| flow | clients | cinderblock | load | real Cinder | load | ratio |`, `|---|---|---|---|---|---|---|`);
  for (const clients of [...new Set([1, CLIENTS])]) {
    for (const flow of Object.keys(FLOWS)) {
      const a = find(ours, flow, clients);
      const b = find(real, flow, clients);
      const errs = (r) => (r?.errors ? ` [${r.errors}]` : '');
      const spread = (r) => (r?.runs?.length > 1 ? ` (${fmt(Math.min(...r.runs))}-${fmt(Math.max(...r.runs))})` : '');
      const cells = [flow, clients, fmt(a?.cyclesPerSecond) + spread(a) + errs(a), fmt(a?.loadavg[0])];
      cells.push(b ? fmt(b.cyclesPerSecond) + spread(b) + errs(b) : 'not measured', fmt(b?.loadavg[0]), b ? `${fmt(a.cyclesPerSecond / b.cyclesPerSecond, 0)}x` : '-');
      lines.push(`| ${cells.join(' | ')} |`);
    }
  }
  lines.push('', 'service CPU per cycle, ms (user + system, every process of the service)', '');
  lines.push(`| flow | clients | cinderblock | real Cinder | ratio |`, `|---|---|---|---|---|`);
  for (const clients of [...new Set([1, CLIENTS])]) {
    for (const flow of Object.keys(FLOWS)) {
      const a = find(ours, flow, clients)?.cpuMsPerCycle;
      const b = find(real, flow, clients)?.cpuMsPerCycle;
      lines.push(`| ${flow} | ${clients} | ${fmt(a, 2)} | ${fmt(b, 0)} | ${a && b ? `${fmt(b / a, 0)}x` : '-'} |`);
    }
  }
  for (const clients of [...new Set([1, CLIENTS])]) {
    lines.push('', `per-call latency, ${clients} client${clients > 1 ? 's' : ''}, ms`, '');
    lines.push(`| call | cinderblock p50 | cinderblock p99 | real Cinder p50 | real Cinder p99 |`, `|---|---|---|---|---|`);
    for (const [flow, def] of Object.entries(FLOWS)) {
      for (const call of def.calls) {
        const a = find(ours, flow, clients)?.calls[call];
        const b = find(real, flow, clients)?.calls[call];
        lines.push(`| ${call} | ${fmt(a?.p50, 2)} | ${fmt(a?.p99, 2)} | ${fmt(b?.p50)} | ${fmt(b?.p99)} |`);
      }
    }
  }
  lines.push('', 'memory after the runs (RSS / PSS, MiB)', '');
  for (const [target, parts] of Object.entries(memory)) {
    if (!parts) {
      lines.push(`${target}: not measured`);
      continue;
    }
    let rss = 0;
    let pss = 0;
    const detail = Object.entries(parts).map(([name, m]) => {
      rss += m.rssKiB;
      pss += m.pssKiB;
      return `${name} ${mib(m.rssKiB)}/${mib(m.pssKiB)}`;
    });
    lines.push(`${target}: total ${mib(rss)} / ${mib(pss)}${detail.length > 1 ? `  (${detail.join(', ')})` : ''}`);
  }
  if (!real) lines.push('', `real Cinder: not measured (${reason})`);
  const allErrors = [...(ours ?? []), ...(real ?? [])].filter((r) => r.errors);
  for (const r of allErrors) {
    for (const [kind, count] of Object.entries(r.errorKinds).slice(0, 3)) lines.push(`errors ${r.flow} x${r.clients}: ${count} x ${kind}`);
  }
  lines.push('', `load average now ${loadavg().map((x) => x.toFixed(2)).join(' ')}, ${cpus().length} CPUs`);
  return lines.join('\n');
}

// ---------------------------------------------------------------- main

const targets = [];
let stopping = false;
async function stopAll() {
  if (stopping) return;
  stopping = true;
  for (const t of targets) await t.stop().catch((err) => progress(`stopping ${t.name}: ${err.message}`));
}
for (const signal of ['SIGINT', 'SIGTERM']) {
  process.on(signal, () => {
    progress(`${signal}: stopping what this bench started`);
    stopAll().finally(() => process.exit(130));
  });
}

let exitCode = 0;
try {
  const ours = await startCinderblock();
  targets.push(ours);
  progress(`cinderblock at ${ours.endpoints.join(', ')} (${ours.database})`);
  const ourResults = await measure(ours, N);
  const memory = { cinderblock: ours.memory() };
  await ours.stop();
  targets.splice(targets.indexOf(ours), 1);

  const real = await realCinderTarget();
  let realResults = null;
  let reason = null;
  if (typeof real === 'string') {
    reason = real;
  } else {
    if (!targets.includes(real)) targets.push(real);
    progress(`real Cinder at ${real.endpoints[0]}`);
    try {
      realResults = await measure(real, REAL_N);
    } catch (err) {
      reason = `failed: ${err.message}`;
    }
    memory['real Cinder'] = real.memory();
  }
  const text = report(ourResults, realResults, reason, memory);
  process.stdout.write(`${text}\n`);
  if (opt.json) {
    writeFileSync(opt.json, JSON.stringify({ date: new Date().toISOString(), argv: process.argv.slice(2), cinderblock: ourResults, realCinder: realResults, realCinderReason: reason, memory }, null, 1));
  }
  if (ourResults.some((r) => r.errors)) exitCode = 1;
} catch (err) {
  process.stderr.write(`bench failed: ${err.stack ?? err}\n`);
  exitCode = 1;
} finally {
  await stopAll();
}
process.exit(exitCode);
