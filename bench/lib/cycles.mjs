// What the control-plane benchmarks share: a cheap keep-alive HTTP client, the two
// attach/detach flows timed call by call, and the service's CPU and memory read from /proc.
import net from 'node:net';
import { spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { readFileSync, readdirSync } from 'node:fs';
import { createServer } from 'node:net';

/**
 * One keep-alive HTTP/1.1 client per target, written on bare sockets: each request is one
 * string written, each response parsed just enough to find its status and body. Node's
 * http client costs about as much CPU per request as a fast server does, and this
 * machine's two cores are shared by client and server; a cheap client measures the server.
 */
export function makeClient(endpoint, project, token, serviceToken = 'svc') {
  const base = new URL(endpoint.replace(/\/$/, ''));
  if (!['127.0.0.1', 'localhost', '[::1]'].includes(base.hostname)) throw new Error(`loopback endpoints only, got ${base.hostname}`);
  const host = base.hostname.replace(/^\[|\]$/g, '');
  const port = Number(base.port || 80);
  const prefix = `${base.pathname}/${project}`;
  const fixedHeaders = `Host: ${base.host}\r\nX-Auth-Token: ${token}\r\nX-Service-Token: ${serviceToken}\r\nAccept: application/json\r\n`;
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

export const FLOWS = {
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
export async function recover(api, volume) {
  try {
    await api.request('POST', `/volumes/${volume}/action`, { 'os-reset_status': { status: 'available', attach_status: 'detached' } }, '3.0');
  } catch {
    // The next cycle will report whatever is still wrong.
  }
}

/** `warmup` cycles first, not counted; `recoverApi` puts a volume back after a failed cycle (os-reset_status needs an administrator). */
export async function runFlow(apis, flowName, volumes, cycles, cpuSeconds, { warmup = 20, recoverApi = null } = {}) {
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
    for (let k = 0; k < Math.ceil(Math.min(warmup, cycles) / volumes.length); k++) {
      try {
        await flow.cycle(apiOf(i), v, i, noop);
      } catch {
        await recover(recoverApi ?? apiOf(i), v);
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
        await recover(recoverApi ?? apiOf(i), v);
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

export async function waitAvailable(api, volume) {
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
export function medianRun(runs) {
  const byRate = [...runs].sort((a, b) => a.cyclesPerSecond - b.cyclesPerSecond);
  const median = { ...byRate[Math.floor((byRate.length - 1) / 2)] };
  median.runs = runs.map((r) => r.cyclesPerSecond);
  median.errors = runs.reduce((n, r) => n + r.errors, 0);
  median.errorKinds = {};
  for (const r of runs) for (const [kind, n] of Object.entries(r.errorKinds)) median.errorKinds[kind] = (median.errorKinds[kind] ?? 0) + n;
  return median;
}

// ---------------------------------------------------------------- the service's processes

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
export function memoryOf(pid) {
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
export function cpuSecondsOf(pid) {
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

export function freePort() {
  return new Promise((resolvePort, reject) => {
    const server = createServer();
    server.on('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address();
      server.close(() => resolvePort(port));
    });
  });
}

/** The bench's project holds a volume per client, more than Cinder's default quota of 10 with --clients over 10; the real Cinder it is set beside has its quotas raised too. */
const BENCH_QUOTAS = { CINDERBLOCK_QUOTA_VOLUMES: '-1', CINDERBLOCK_QUOTA_GIGABYTES: '-1' };

/** Starts one cinderblock process and waits for its ready banner. */
export async function startProcess(cli, name, args, extraEnv = {}) {
  const env = { ...Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('CINDERBLOCK_'))), ...BENCH_QUOTAS, ...extraEnv };
  const proc = spawn(process.execPath, [cli, ...args], { env, stdio: ['ignore', 'pipe', 'pipe'] });
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

