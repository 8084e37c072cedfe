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
import net from 'node:net';
import { spawn } from 'node:child_process';
import { randomBytes, randomUUID } from 'node:crypto';
import { existsSync, readFileSync, readdirSync, writeFileSync, mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir, loadavg, cpus } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';

const REPO = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const CLI = join(REPO, 'dist/src/cli/main.js');
const SERVICE_TOKEN = 'svc';

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

// ---------------------------------------------------------------- HTTP client

/**
 * One keep-alive HTTP/1.1 client per target, written on bare sockets: each request is one
 * string written, each response parsed just enough to find its status and body. Node's
 * http client costs about as much CPU per request as a fast server does, and this
 * machine's two cores are shared by client and server; a cheap client measures the server.
 */
function makeClient(endpoint, project, token) {
  const base = new URL(endpoint.replace(/\/$/, ''));
  if (!['127.0.0.1', 'localhost', '[::1]'].includes(base.hostname)) throw new Error(`loopback endpoints only, got ${base.hostname}`);
  const host = base.hostname.replace(/^\[|\]$/g, '');
  const port = Number(base.port || 80);
  const prefix = `${base.pathname}/${project}`;
  const fixedHeaders = `Host: ${base.host}\r\nX-Auth-Token: ${token}\r\nX-Service-Token: ${SERVICE_TOKEN}\r\nAccept: application/json\r\n`;
  const idle = [];
  const all = new Set();
  const connect = () =>
    new Promise((resolveSocket, reject) => {
      const socket = net.connect({ host, port, noDelay: true }, () => {
        socket.off('error', reject);
        resolveSocket(socket);
      });
      socket.once('error', reject);
      // An idle socket's error is followed by its close, which forgets it.
      socket.on('error', () => {});
      all.add(socket);
      socket.once('close', () => {
        all.delete(socket);
        const at = idle.indexOf(socket);
        if (at >= 0) idle.splice(at, 1);
      });
    });
  const exchange = (socket, text) =>
    new Promise((resolveResponse, reject) => {
      let received = Buffer.alloc(0);
      const fail = (err) => {
        cleanup();
        socket.destroy();
        reject(err);
      };
      const onClose = () => fail(Object.assign(new Error('connection closed before the response ended'), { unanswered: received.length === 0 }));
      const onData = (chunk) => {
        received = received.length ? Buffer.concat([received, chunk]) : chunk;
        const headEnd = received.indexOf('\r\n\r\n');
        if (headEnd < 0) return;
        const head = received.subarray(0, headEnd).toString('latin1');
        const status = Number(head.slice(9, 12));
        const length = /\r\ncontent-length: *(\d+)/i.exec(head);
        let body;
        if (length) {
          const end = headEnd + 4 + Number(length[1]);
          if (received.length < end) return;
          body = received.subarray(headEnd + 4, end);
        } else if (/\r\ntransfer-encoding: *chunked/i.test(head)) {
          try {
            body = dechunk(received.subarray(headEnd + 4));
          } catch (err) {
            return fail(err);
          }
          if (!body) return;
        } else if (status === 204 || status === 304) {
          body = Buffer.alloc(0);
        } else {
          return fail(new Error(`response without a length: ${head.split('\r\n')[0]}`));
        }
        cleanup();
        const keepAlive = !/\r\nconnection: *close/i.test(head);
        resolveResponse({ socket, status, head, body: body.toString(), keepAlive });
      };
      const cleanup = () => {
        socket.off('data', onData);
        socket.off('close', onClose);
        socket.off('error', fail);
      };
      socket.on('data', onData);
      socket.once('close', onClose);
      socket.once('error', fail);
      socket.write(text);
    });
  const request = async (method, path, body, mv) => {
    const data = body === undefined ? '' : JSON.stringify(body);
    // Nova sends no version header for the legacy actions; cinderclient omits it at 3.0.
    let text = `${method} ${prefix}${path} HTTP/1.1\r\n${fixedHeaders}`;
    if (mv && mv !== '3.0') text += `OpenStack-API-Version: volume ${mv}\r\n`;
    if (data) text += `Content-Type: application/json\r\nContent-Length: ${Buffer.byteLength(data)}\r\n`;
    text += `\r\n${data}`;
    const reused = idle.pop();
    let res;
    try {
      res = await exchange(reused ?? (await connect()), text);
    } catch (err) {
      // A kept-alive connection the server closed while it sat idle: nothing was answered,
      // so the request was never processed; send it once more on a new connection.
      if (!reused || !err.unanswered) throw err;
      res = await exchange(await connect(), text);
    }
    const socket = res.socket;
    if (res.keepAlive) idle.push(socket);
    else socket.end();
    if (res.status < 200 || res.status >= 300) {
      throw new Error(`${method} ${path.replace(/[0-9a-f-]{36}/g, '<id>')} -> ${res.status} ${res.body.slice(0, 200)}`);
    }
    return res.body && /\r\ncontent-type: *[^\r]*json/i.test(res.head) ? JSON.parse(res.body) : null;
  };
  return {
    request,
    close: () => {
      for (const socket of all) socket.destroy();
    },
  };
}

/** The body of a complete chunked message, or null while more is to come. */
function dechunk(buffer) {
  const parts = [];
  let at = 0;
  for (;;) {
    const lineEnd = buffer.indexOf('\r\n', at);
    if (lineEnd < 0) return null;
    const size = parseInt(buffer.subarray(at, lineEnd).toString('latin1'), 16);
    if (Number.isNaN(size)) throw new Error('malformed chunked response');
    // The last chunk, then optional trailers, then an empty line.
    if (size === 0) return buffer.indexOf('\r\n\r\n', lineEnd) >= 0 ? Buffer.concat(parts) : null;
    if (buffer.length < lineEnd + 2 + size + 2) return null;
    parts.push(buffer.subarray(lineEnd + 2, lineEnd + 2 + size));
    at = lineEnd + 2 + size + 2;
  }
}

const connector = (i) => ({
  initiator: `iqn.1993-08.org.debian:01:bench${i}`,
  ip: '127.0.0.1',
  host: `bench-${i}`,
  platform: 'x86_64',
  os_type: 'linux',
  multipath: false,
});

const FLOWS = {
  legacy: {
    calls: ['os-reserve', 'os-initialize_connection', 'os-attach', 'os-begin_detaching', 'os-terminate_connection', 'os-detach'],
    async cycle(api, volume, i, timed) {
      const act = (name, arg = null) => api.request('POST', `/volumes/${volume}/action`, { [name]: arg }, '3.0');
      await timed('os-reserve', () => act('os-reserve'));
      await timed('os-initialize_connection', () => act('os-initialize_connection', { connector: connector(i) }));
      await timed('os-attach', () => act('os-attach', { instance_uuid: randomUUID(), mountpoint: '/dev/vdb', mode: 'rw' }));
      await timed('os-begin_detaching', () => act('os-begin_detaching'));
      await timed('os-terminate_connection', () => act('os-terminate_connection', { connector: connector(i) }));
      await timed('os-detach', () => act('os-detach', {}));
    },
  },
  attachments: {
    calls: ['attachment-create', 'attachment-complete', 'attachment-delete'],
    async cycle(api, volume, i, timed) {
      const body = { attachment: { volume_uuid: volume, instance_uuid: randomUUID(), connector: connector(i), mode: 'rw' } };
      const created = await timed('attachment-create', () => api.request('POST', '/attachments', body, '3.54'));
      const id = created.attachment.id;
      await timed('attachment-complete', () => api.request('POST', `/attachments/${id}/action`, { 'os-complete': null }, '3.54'));
      await timed('attachment-delete', () => api.request('DELETE', `/attachments/${id}`, undefined, '3.54'));
    },
  },
};

const percentile = (sorted, p) => sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)];

/** After a failed cycle the volume may be anywhere in the state machine; put it back. */
async function recover(api, volume) {
  try {
    await api.request('POST', `/volumes/${volume}/action`, { 'os-reset_status': { status: 'available', attach_status: 'detached' } }, '3.0');
  } catch {
    // The next cycle will report whatever is still wrong.
  }
}

async function runFlow(apis, flowName, volumes, cycles, cpuSeconds) {
  const apiOf = (i) => apis[i % apis.length];
  const flow = FLOWS[flowName];
  const latencies = Object.fromEntries(flow.calls.map((c) => [c, []]));
  const errors = [];
  const noop = (_, fn) => fn();
  const timed = async (call, fn) => {
    const start = performance.now();
    const result = await fn();
    latencies[call].push(performance.now() - start);
    return result;
  };
  // Warm-up cycles (JIT, connection pools, caches) are not counted.
  await Promise.all(volumes.map(async (v, i) => {
    for (let k = 0; k < Math.ceil(Math.min(WARMUP, cycles) / volumes.length); k++) {
      try {
        await flow.cycle(apiOf(i), v, i, noop);
      } catch {
        await recover(apiOf(i), v);
      }
    }
  }));
  let started = 0;
  let completed = 0;
  const cpuBefore = cpuSeconds();
  const t0 = performance.now();
  await Promise.all(volumes.map(async (v, i) => {
    while (started < cycles && errors.length < 50) {
      started++;
      try {
        await flow.cycle(apiOf(i), v, i, timed);
        completed++;
      } catch (err) {
        errors.push(err.message);
        await recover(apiOf(i), v);
      }
    }
  }));
  const seconds = (performance.now() - t0) / 1000;
  const cpuAfter = cpuSeconds();
  // The service's own CPU (all its processes, user and system) per cycle: what a cycle
  // costs whatever the machine, where cycles per second also depend on the client's share.
  const cpuMsPerCycle = cpuBefore === null || cpuAfter === null || !completed ? null : ((cpuAfter - cpuBefore) * 1000) / completed;
  const calls = {};
  for (const [call, xs] of Object.entries(latencies)) {
    const sorted = xs.sort((a, b) => a - b);
    calls[call] = sorted.length ? { n: sorted.length, p50: percentile(sorted, 50), p99: percentile(sorted, 99) } : null;
  }
  const errorKinds = {};
  for (const e of errors) errorKinds[e] = (errorKinds[e] ?? 0) + 1;
  return { flow: flowName, clients: volumes.length, completed, errors: errors.length, errorKinds, seconds, cyclesPerSecond: completed / seconds, cpuMsPerCycle, calls };
}

async function waitAvailable(api, volume) {
  for (let i = 0; i < 600; i++) {
    const status = (await api.request('GET', `/volumes/${volume}`, undefined, '3.0')).volume.status;
    if (status === 'available') return;
    if (status === 'error') throw new Error(`volume ${volume} went to error`);
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`volume ${volume} never became available`);
}

/**
 * The run with the median rate stands for all of them (its latencies and CPU too); the
 * others' rates are kept to show the spread, and every run's errors count.
 */
function medianRun(runs) {
  const byRate = [...runs].sort((a, b) => a.cyclesPerSecond - b.cyclesPerSecond);
  const median = { ...byRate[Math.floor((byRate.length - 1) / 2)] };
  median.runs = runs.map((r) => r.cyclesPerSecond);
  median.errors = runs.reduce((n, r) => n + r.errors, 0);
  median.errorKinds = {};
  for (const r of runs) for (const [kind, n] of Object.entries(r.errorKinds)) median.errorKinds[kind] = (median.errorKinds[kind] ?? 0) + n;
  return median;
}

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
          const run = await runFlow(apis, flow, volumes.slice(0, clients), cycles, target.cpuSeconds);
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

function processTree(pid) {
  const children = new Map();
  for (const entry of readdirSafe('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      if (!children.has(ppid)) children.set(ppid, []);
      children.get(ppid).push(Number(entry));
    } catch {
      // The process ended while we were looking.
    }
  }
  const out = [];
  const walk = (p) => {
    out.push(p);
    for (const c of children.get(p) ?? []) walk(c);
  };
  walk(pid);
  return out;
}

function readdirSafe(dir) {
  try {
    return readdirSync(dir);
  } catch {
    return [];
  }
}

/** RSS and PSS in KiB of a process and all its descendants (PSS counts pages shared after fork once). */
function memoryOf(pid) {
  let rss = 0;
  let pss = 0;
  for (const p of processTree(pid)) {
    try {
      rss += Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${p}/status`, 'utf8'))?.[1] ?? 0);
    } catch {
      continue;
    }
    try {
      pss += Number(/^Pss:\s+(\d+)/m.exec(readFileSync(`/proc/${p}/smaps_rollup`, 'utf8'))?.[1] ?? 0);
    } catch {
      pss = NaN;
    }
  }
  return { rssKiB: rss, pssKiB: pss };
}

const CLOCK_TICKS_PER_SECOND = 100;

/** User plus system CPU seconds of a process and all its descendants, or null if it is gone. */
function cpuSecondsOf(pid) {
  let ticks = 0;
  for (const p of processTree(pid)) {
    try {
      const stat = readFileSync(`/proc/${p}/stat`, 'utf8');
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      ticks += Number(fields[11]) + Number(fields[12]);
    } catch {
      if (p === pid) return null;
    }
  }
  return ticks / CLOCK_TICKS_PER_SECOND;
}

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

function freePort() {
  return new Promise((resolvePort, reject) => {
    const server = createServer();
    server.on('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address();
      server.close(() => resolvePort(port));
    });
  });
}

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
      processes.push(await startProcess('cinderblock', args));
      endpoints.push(`http://127.0.0.1:${apiPort}/v3`);
    } else {
      if (!database?.startsWith('postgres')) throw new Error('--api-services needs PostgreSQL: add --postgres or --database postgres://...');
      const split = ['--database', database, '--rpc', opt.rpc, ...logLevel];
      processes.push(await startProcess('volume', ['volume', ...storage, ...split, '--host', `bench-${randomBytes(4).toString('hex')}`]));
      for (let i = 1; i <= apiServices; i++) {
        const apiPort = await freePort();
        processes.push(await startProcess(`api ${i}`, ['api', '--api-listen', `127.0.0.1:${apiPort}`, ...split]));
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

/** Starts one cinderblock process and waits for its ready banner. */
async function startProcess(name, args) {
  const env = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('CINDERBLOCK_')));
  const proc = spawn(process.execPath, [CLI, ...args], { env, stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  const keep = (c) => (output = (output + c).slice(-8000));
  proc.stderr.setEncoding('utf8').on('data', keep);
  await new Promise((resolveReady, reject) => {
    const timer = setTimeout(() => reject(new Error(`cinderblock ${name} not ready in 30 s:\n${output}`)), 30_000);
    proc.stdout.setEncoding('utf8').on('data', (c) => {
      keep(c);
      if (/cinderblock (\w+ service )?ready/.test(output)) {
        clearTimeout(timer);
        resolveReady();
      }
    });
    proc.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`cinderblock ${name} exited with ${code}:\n${output}`));
    });
  });
  return { name, proc };
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
