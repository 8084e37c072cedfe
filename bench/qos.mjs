#!/usr/bin/env node
// Back-end QoS on the built-in target: does each of the six limits hold, and does an
// export without limits cost anything? The target is the builtin helper from dist/ (what
// `cinderblock serve` runs), in this process; the initiator is qemu's libiscsi driver,
// driven by `qemu-img bench` (this fio has no libiscsi engine).
//
// Usage: node bench/qos.mjs [--seconds 5] [--depth 8] [--repeat 3]
// Prints one table: each limit with its workload, what qemu-img measured and the
// deviation; then each workload without a limit, through an export without limits and
// through a bare target serving the file (no helper, no QoS code on the path).

import { randomBytes, randomUUID } from 'node:crypto';
import { execFile } from 'node:child_process';
import { mkdtemp, open, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';

import { pino } from 'pino';
import '../dist/src/targets/all.js';
import { createTargetHelper } from '../dist/src/targets/registry.js';
import { IscsiServer } from '../dist/src/iscsi/server.js';
import { openFileLogicalUnit } from '../dist/src/iscsi/scsi/file-lu.js';
import { freePort } from './lib/cycles.mjs';

const { values } = parseArgs({
  options: {
    seconds: { type: 'string', default: '5' },
    depth: { type: 'string', default: '8' },
    repeat: { type: 'string', default: '3' },
  },
  strict: true,
});
const SECONDS = Number(values.seconds);
const DEPTH = values.depth;
const REPEAT = Number(values.repeat);
// qemu-img calls itself this when nothing names it.
const INITIATOR = 'iqn.2008-11.org.linux-kvm';
const CHAP = { username: 'benchuser', password: 'bench-secret-1234' };
const MiB = 1 << 20;
const FILE_MIB = 256;

const SMALL = { size: 4096 };
const LARGE = { size: 64 * 1024 };
/** Each limit with the workload that meets it: 4 KiB commands for IOPS, 64 KiB for bytes. */
const CASES = [
  { key: 'total_iops_sec', limit: 800, ...SMALL, write: false, unit: 'IOPS' },
  { key: 'read_iops_sec', limit: 800, ...SMALL, write: false, unit: 'IOPS' },
  { key: 'write_iops_sec', limit: 800, ...SMALL, write: true, unit: 'IOPS' },
  { key: 'total_bytes_sec', limit: 24 * MiB, ...LARGE, write: true, unit: 'MiB/s' },
  { key: 'read_bytes_sec', limit: 24 * MiB, ...LARGE, write: false, unit: 'MiB/s' },
  { key: 'write_bytes_sec', limit: 24 * MiB, ...LARGE, write: true, unit: 'MiB/s' },
];

function qemuImgBench(url, { count, size, write }) {
  const args = ['bench', '-f', 'raw', '-t', 'none', '-c', String(count), '-d', DEPTH, '-s', String(size), ...(write ? ['-w'] : []), url];
  return new Promise((resolve, reject) => {
    execFile('qemu-img', args, { timeout: 300_000 }, (err, stdout, stderr) => {
      if (err) return reject(new Error(`qemu-img ${args.join(' ')}: ${stderr || err.message}`));
      const seconds = Number(/Run completed in ([\d.]+) seconds/.exec(stdout)?.[1]);
      resolve(seconds);
    });
  });
}

/** Per second, in the case's unit. */
function rate(c, count, seconds) {
  return c.unit === 'IOPS' ? count / seconds : (count * c.size) / MiB / seconds;
}

function median(xs) {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)];
}

// Filled, not sparse: qemu's driver skips reading ranges the target reports unmapped, so
// reads of holes would never reach the throttle. qemu-img wraps around at the end.
const dir = await mkdtemp(join(tmpdir(), 'cinderblock-qos-bench-'));
const path = join(dir, 'volume');
const fh = await open(path, 'w');
const chunk = randomBytes(MiB);
for (let i = 0; i < FILE_MIB; i++) await fh.write(chunk, 0, MiB, i * MiB);
await fh.sync();
await fh.close();

const port = await freePort();
const helper = createTargetHelper('builtin', {
  dataDir: dir,
  iscsiListen: `127.0.0.1:${port}`,
  extraPortals: [],
  logger: pino({ level: 'warn' }),
});
await helper.start();
const volumeId = randomUUID();
const iqn = `iqn.2010-10.org.openstack:volume-${volumeId}`;
const urlOf = (p, target) => `iscsi://${CHAP.username}%${CHAP.password}@127.0.0.1:${p}/${target}/0`;
const exportWith = async (limits) => {
  await helper.createExport({ volumeId, iqn, backingPath: path, chap: CHAP, ...(limits ? { limits } : {}) });
  await helper.allowInitiator(iqn, { initiator: INITIATOR, readOnly: false });
};

// The same file behind a bare target: the data path without the helper or any QoS code.
const barePort = await freePort();
const bare = new IscsiServer({ logger: pino({ level: 'warn' }) });
await bare.listen(`127.0.0.1:${barePort}`);
const bareLu = await openFileLogicalUnit({ path, serial: volumeId.replace(/-/g, ''), deviceId: volumeId.replace(/-/g, ''), thinProvisioning: true });
const bareIqn = `iqn.2010-10.org.openstack:volume-bare-${volumeId}`;
bare.addTarget({ iqn: bareIqn, luns: new Map([[0, bareLu]]), chap: CHAP });
bare.allowInitiator(bareIqn, INITIATOR);

const rows = [];
try {
  for (const c of CASES) {
    await exportWith({ [c.key]: c.limit });
    const perSecond = c.unit === 'IOPS' ? c.limit : c.limit / c.size;
    const count = Math.round(perSecond * SECONDS);
    const runs = [];
    for (let i = 0; i < REPEAT; i++) runs.push(rate(c, count, await qemuImgBench(urlOf(port, iqn), { ...c, count })));
    const limit = c.unit === 'IOPS' ? c.limit : c.limit / MiB;
    const measured = median(runs);
    rows.push({ c, limit, measured, deviation: ((measured - limit) / limit) * 100 });
  }

  // The same four workloads without limits. Throughput on a shared machine swings with the
  // load; the target's CPU time per command (this process, which only serves iSCSI while
  // qemu-img runs) is what says whether an export without limits costs anything.
  const free = [];
  await exportWith(undefined);
  const workloads = [SMALL, LARGE].flatMap((w) => [false, true].map((write) => ({ ...w, write, unit: w === SMALL ? 'IOPS' : 'MiB/s' })));
  const measure = async (url, c, count) => {
    const cpu = process.cpuUsage();
    const seconds = await qemuImgBench(url, { ...c, count });
    const used = process.cpuUsage(cpu);
    return { rate: rate(c, count, seconds), cpuUs: (used.user + used.system) / count };
  };
  for (const c of workloads) {
    const count = c.unit === 'IOPS' ? 20_000 : 4_000;
    const ours = [];
    const base = [];
    // Alternated, so drift on a shared machine falls on both alike.
    for (let i = 0; i < REPEAT * 2; i++) {
      ours.push(await measure(urlOf(port, iqn), c, count));
      base.push(await measure(urlOf(barePort, bareIqn), c, count));
    }
    const med = (runs, field) => median(runs.map((r) => r[field]));
    free.push({ c, ours: med(ours, 'rate'), base: med(base, 'rate'), oursCpu: med(ours, 'cpuUs'), baseCpu: med(base, 'cpuUs') });
  }

  const workload = (c) => `${c.write ? 'write' : 'read'} ${c.size / 1024} KiB, depth ${DEPTH}`;
  const fmt = (x) => (x >= 100 ? x.toFixed(0) : x.toFixed(1));
  console.log(`qemu-img bench through libiscsi, ${SECONDS} s per limited run, median of ${REPEAT}\n`);
  console.log('| limit | workload | set | measured | deviation |');
  console.log('| --- | --- | ---: | ---: | ---: |');
  for (const r of rows) {
    console.log(`| ${r.c.key} | ${workload(r.c)} | ${fmt(r.limit)} ${r.c.unit} | ${fmt(r.measured)} ${r.c.unit} | ${r.deviation >= 0 ? '+' : ''}${r.deviation.toFixed(1)} % |`);
  }
  const pct = (a, b) => `${a >= b ? '+' : ''}${(((a - b) / b) * 100).toFixed(1)} %`;
  console.log(`\nNo limit, median of ${REPEAT * 2} alternated runs each:\n`);
  console.log('| workload | export without limits | bare target | difference | target CPU per command, without limits | bare | difference |');
  console.log('| --- | ---: | ---: | ---: | ---: | ---: | ---: |');
  for (const f of free) {
    const rates = `${fmt(f.ours)} ${f.c.unit} | ${fmt(f.base)} ${f.c.unit} | ${pct(f.ours, f.base)}`;
    const cpu = `${f.oursCpu.toFixed(1)} µs | ${f.baseCpu.toFixed(1)} µs | ${pct(f.oursCpu, f.baseCpu)}`;
    console.log(`| ${workload(f.c)} | ${rates} | ${cpu} |`);
  }
} finally {
  await helper.stop();
  await bare.close();
  await bareLu.close();
  await rm(dir, { recursive: true, force: true });
}
