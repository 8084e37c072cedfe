import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile, spawn } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { open, readFile, truncate, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { pino } from 'pino';
import { createTargetHelper } from '../../src/targets/registry.js';
import '../../src/targets/tgtadm/index.js';
import type { ExportSpec } from '../../src/targets/target.js';
import { TgtadmTargetHelper } from '../../src/targets/tgtadm/helper.js';
import { parseTargets } from '../../src/targets/tgtadm/show.js';
import { controlPortFor } from '../../src/targets/tgtadm/daemon.js';
import { freePort, requireTool, tempDir } from '../helpers/env.js';

const MiB = 1024 * 1024;
const INQ = 'iqn.2007-10.com.github:sahlberg:libiscsi:iscsi-inq';
// QEMU's iscsi driver logs in under this name unless told otherwise.
const QEMU = 'iqn.2008-11.org.linux-kvm';
const STRANGER = 'iqn.1994-05.com.example:stranger';

interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

function run(cmd: string, args: string[], timeout = 15_000): Promise<Run> {
  return new Promise((resolve) => {
    execFile(cmd, args, { timeout, killSignal: 'SIGKILL', maxBuffer: 64 * MiB }, (error, stdout, stderr) => {
      const code = error ? (typeof error.code === 'number' ? error.code : -1) : 0;
      resolve({ code, stdout: String(stdout), stderr: String(stderr) });
    });
  });
}

const sha256 = (data: Buffer) => createHash('sha256').update(data).digest('hex');
const alive = (pid: number) => existsSync(`/proc/${pid}`);

/** Every tgtd on the machine serving this portal, whoever started it. */
function tgtdPidsFor(portal: string): number[] {
  const pids: number[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const argv = readFileSync(`/proc/${entry}/cmdline`, 'utf8').split('\0');
      if (argv[0]?.endsWith('tgtd') && argv.includes(`portal=${portal}`)) pids.push(Number(entry));
    } catch {
      // The process ended while being looked at.
    }
  }
  return pids;
}

async function waitFor(what: string, check: () => boolean | Promise<boolean>, ms = 10_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

test('tgtadm helper exports a file over iSCSI to real initiators', { timeout: 60_000 }, async (t) => {
  for (const tool of ['tgtd', 'tgtadm', 'iscsi-inq', 'iscsi-readcapacity16', 'iscsi-perf', 'qemu-img']) {
    if (!requireTool(t, tool)) return;
  }
  const dir = await tempDir(t);
  const port = await freePort();
  const portal = `127.0.0.1:${port}`;
  let logged = '';
  const sink = new Writable({
    write(chunk, _enc, done) {
      logged += String(chunk);
      done();
    },
  });
  const helper = createTargetHelper('tgtadm', {
    dataDir: dir,
    iscsiListen: portal,
    extraPortals: ['127.0.0.2:3260'],
    logger: pino({ level: 'debug' }, sink),
  });
  assert.ok(helper instanceof TgtadmTargetHelper);
  assert.equal(helper.lun, 1);
  assert.equal(helper.supportsReadOnly, false);
  assert.deepEqual(helper.portals(), [portal, '127.0.0.2:3260']);

  await helper.start();
  const firstPid = helper.tgtdPid!;
  t.after(() => helper.stop());
  const tgtadm = (...args: string[]) => run('tgtadm', ['-C', String(helper.controlPort), '--lld', 'iscsi', ...args]);
  const shown = async () => parseTargets((await tgtadm('--mode', 'target', '--op', 'show')).stdout);

  const backingPath = join(dir, 'volume.img');
  await writeFile(backingPath, '');
  await truncate(backingPath, 64 * MiB);
  const volumeId = '6f0b9a52-6b8e-4c2e-9d0e-3a1f2b3c4d5e';
  const spec: ExportSpec = {
    volumeId,
    iqn: `iqn.2010-10.org.openstack:volume-${volumeId}`,
    backingPath,
    chap: { username: 'Ab3dE5fG7hJ9kL1mN3pQ', password: randomBytes(12).toString('hex') },
  };
  const url = (password = spec.chap.password) =>
    `iscsi://${spec.chap.username}%${password}@${portal}/${spec.iqn}/${helper.lun}`;

  const tid = await helper.createExport(spec);
  assert.match(tid, /^[1-9]\d*$/);
  assert.equal(await helper.createExport(spec), tid, 'a repeated createExport returns the same target');
  assert.equal((await shown()).filter((s) => s.iqn === spec.iqn).length, 1);

  // Nobody is on the ACL yet: even the right secret is refused.
  const beforeAllow = await run('iscsi-inq', ['-i', INQ, url()]);
  assert.notEqual(beforeAllow.code, 0, 'login allowed before any initiator was');

  await helper.allowInitiator(spec.iqn, { initiator: INQ, readOnly: false });
  await helper.allowInitiator(spec.iqn, { initiator: INQ, readOnly: false });
  await helper.allowInitiator(spec.iqn, { initiator: QEMU, readOnly: false });

  const inq = await run('iscsi-inq', ['-i', INQ, url()]);
  assert.equal(inq.code, 0, inq.stderr);
  assert.match(inq.stdout, /Peripheral Device Type:DIRECT_ACCESS/);
  const capacity = await run('iscsi-readcapacity16', ['-s', '-i', INQ, url()]);
  assert.equal(capacity.code, 0, capacity.stderr);
  assert.equal(capacity.stdout.trim(), String(64 * MiB));

  // QEMU writes through the LUN; what it reads back and what lands in the file must match.
  const image = randomBytes(4 * MiB);
  const imagePath = join(dir, 'image.raw');
  await writeFile(imagePath, image);
  const write = await run('qemu-img', ['convert', '-n', '-f', 'raw', '-O', 'raw', imagePath, url()], 30_000);
  assert.equal(write.code, 0, write.stderr);
  const readPath = join(dir, 'read.raw');
  const read = await run('qemu-img', ['dd', '-f', 'raw', '-O', 'raw', 'bs=1M', 'count=4', `if=${url()}`, `of=${readPath}`]);
  assert.equal(read.code, 0, read.stderr);
  assert.equal(sha256(await readFile(readPath)), sha256(image));
  const file = await open(backingPath);
  const head = Buffer.alloc(4 * MiB);
  await file.read(head, 0, head.length, 0);
  await file.close();
  assert.equal(sha256(head), sha256(image));

  const wrong = await run('iscsi-inq', ['-i', INQ, url('not-the-password-at-all')]);
  assert.notEqual(wrong.code, 0);
  assert.match(wrong.stderr, /Authentication failure/);
  const stranger = await run('iscsi-inq', ['-i', STRANGER, url()]);
  assert.notEqual(stranger.code, 0, 'an initiator off the ACL logged in');

  // A live session of the removed initiator is closed from the target side, and it cannot log in again.
  const perf = spawn('iscsi-perf', ['-i', INQ, '-t', '20', '-x', '1', url()], { stdio: 'ignore' });
  const perfExit = new Promise<number | null>((resolve) => perf.once('exit', (code) => resolve(code)));
  t.after(() => perf.kill('SIGKILL'));
  await waitFor('the iscsi-perf session', async () =>
    (await shown()).some((s) => s.iqn === spec.iqn && s.nexuses.some((n) => n.initiator === INQ)),
  );
  const removedAt = Date.now();
  await helper.removeInitiator(spec.iqn, INQ);
  await helper.removeInitiator(spec.iqn, INQ);
  assert.notEqual(await perfExit, 0, 'iscsi-perf kept running after its initiator was removed');
  assert.ok(Date.now() - removedAt < 10_000, 'the session was not closed at once');
  const target = (await shown()).find((s) => s.iqn === spec.iqn)!;
  assert.ok(!target.nexuses.some((n) => n.initiator === INQ));
  assert.deepEqual(target.acl, [QEMU]);
  const afterRemove = await run('iscsi-inq', ['-i', INQ, url()]);
  assert.notEqual(afterRemove.code, 0, 'a removed initiator logged in again');
  assert.equal((await run('iscsi-inq', ['-i', QEMU, url()])).code, 0, 'the other initiator lost access');

  // A resize under load: QEMU keeps reading through it without an I/O error.
  const bench = spawn('qemu-img', ['bench', '-f', 'raw', '-c', '30000', '-d', '8', '-s', '4k', '-S', '4k', url()], {
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let benchErr = '';
  bench.stderr.on('data', (d) => (benchErr += String(d)));
  const benchExit = new Promise<number | null>((resolve) => bench.once('exit', (code) => resolve(code)));
  t.after(() => bench.kill('SIGKILL'));
  await waitFor('the QEMU session', async () =>
    (await shown()).some((s) => s.iqn === spec.iqn && s.nexuses.some((n) => n.initiator === QEMU)),
  );
  await truncate(backingPath, 96 * MiB);
  await helper.resized(spec.iqn);
  const benchOutlivedResize = bench.exitCode === null;
  assert.equal(await benchExit, 0, `I/O failed across the resize: ${benchErr}`);
  assert.ok(benchOutlivedResize, 'qemu-img bench ended before the resize did; it proves nothing');
  assert.deepEqual((await shown()).find((s) => s.iqn === spec.iqn)?.acl, [QEMU], 'the resize lost the ACL');
  const grown = await run('iscsi-readcapacity16', ['-s', '-i', QEMU, url()]);
  assert.equal(grown.stdout.trim(), String(96 * MiB), grown.stderr);

  // tgtd dies: it is restarted and the export comes back with its ACL and secret.
  process.kill(firstPid, 'SIGKILL');
  // Polled with an initiator rather than through the helper, whose next call would rebuild the export by itself.
  await waitFor('the export to be rebuilt', async () => {
    const capacity = await run('iscsi-readcapacity16', ['-s', '-i', QEMU, url()]);
    return capacity.code === 0 && capacity.stdout.trim() === String(96 * MiB);
  });
  assert.notEqual(helper.tgtdPid, firstPid);
  assert.equal(await helper.createExport(spec), tid, 'the rebuilt export keeps its tid');
  assert.notEqual((await run('iscsi-inq', ['-i', INQ, url()])).code, 0, 'the restart restored a removed initiator');

  await helper.removeExport(volumeId, spec.iqn);
  await helper.removeExport(volumeId, spec.iqn);
  assert.deepEqual(await shown(), []);
  const accounts = await tgtadm('--mode', 'account', '--op', 'show');
  assert.ok(!accounts.stdout.includes(spec.chap.username), accounts.stdout);
  assert.notEqual((await run('iscsi-inq', ['-i', QEMU, url()])).code, 0, 'a removed export still answered');

  // ensureExport rebuilds an export and exactly its access list, as at service start-up.
  const ensuredTid = await helper.ensureExport(spec, [{ initiator: INQ, readOnly: false }]);
  assert.match(ensuredTid, /^[1-9]\d*$/);
  assert.equal((await run('iscsi-inq', ['-i', INQ, url()])).code, 0);
  assert.notEqual((await run('iscsi-inq', ['-i', QEMU, url()])).code, 0);

  const pid = helper.tgtdPid!;
  await helper.stop();
  assert.ok(!alive(pid), 'tgtd survived stop()');
  assert.ok(!alive(firstPid));
  assert.ok(!existsSync(`/var/run/tgtd/socket.${helper.controlPort}`));
  assert.ok(!logged.includes(spec.chap.password), 'a CHAP password reached the log');
  assert.ok(!(await readFile(join(dir, 'tgtd.log'), 'utf8')).includes(spec.chap.password));
});

const quietLogger = () => pino({ level: 'silent' });

test('a portal already in use is refused and no tgtd is left running', { timeout: 20_000 }, async (t) => {
  if (!requireTool(t, 'tgtd') || !requireTool(t, 'tgtadm')) return;
  const dir = await tempDir(t);
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  t.after(() => server.close());
  const address = server.address();
  assert.ok(address && typeof address === 'object');
  const portal = `127.0.0.1:${address.port}`;
  const helper = createTargetHelper('tgtadm', { dataDir: dir, iscsiListen: portal, extraPortals: [], logger: quietLogger() });
  await assert.rejects(helper.start(), /cannot serve iSCSI on 127\.0\.0\.1:\d+/);
  assert.deepEqual(tgtdPidsFor(portal), []);
});

test('a tgtd left behind on the same portal is cleared at start, and exports made at once stay apart', { timeout: 30_000 }, async (t) => {
  if (!requireTool(t, 'tgtd') || !requireTool(t, 'tgtadm')) return;
  const dir = await tempDir(t);
  const portal = `127.0.0.1:${await freePort()}`;
  const controlPort = String(controlPortFor(portal));
  // What a service killed with SIGKILL leaves: its tgtd, still serving a target.
  const leftover = spawn('tgtd', ['-f', '-C', controlPort, '--iscsi', `portal=${portal}`], { stdio: 'ignore', detached: true });
  const leftoverExit = new Promise<void>((resolve) => leftover.once('exit', () => resolve()));
  t.after(() => leftover.kill('SIGKILL'));
  const adm = (...args: string[]) => run('tgtadm', ['-C', controlPort, ...args]);
  await waitFor('the leftover tgtd', async () => (await adm('--mode', 'system', '--op', 'show')).code === 0);
  const created = await adm('--lld', 'iscsi', '--mode', 'target', '--op', 'new', '--tid', '1', '--targetname', 'iqn.2010-10.org.openstack:volume-left');
  assert.equal(created.code, 0, created.stderr);

  const helper = createTargetHelper('tgtadm', { dataDir: dir, iscsiListen: portal, extraPortals: [], logger: quietLogger() });
  await helper.start();
  t.after(() => helper.stop());
  await leftoverExit;
  assert.equal(String((helper as TgtadmTargetHelper).controlPort), controlPort, 'the leftover socket was not reused');
  assert.deepEqual(tgtdPidsFor(portal), [(helper as TgtadmTargetHelper).tgtdPid]);

  const specs: ExportSpec[] = [];
  for (let i = 0; i < 6; i++) {
    const backingPath = join(dir, `v${i}.img`);
    await writeFile(backingPath, '');
    await truncate(backingPath, MiB);
    const volumeId = `00000000-0000-4000-8000-00000000000${i}`;
    specs.push({
      volumeId,
      iqn: `iqn.2010-10.org.openstack:volume-${volumeId}`,
      backingPath,
      chap: { username: `user${i}`, password: randomBytes(8).toString('hex') },
    });
  }
  const tids = await Promise.all(specs.map((spec) => helper.createExport(spec)));
  assert.equal(new Set(tids).size, specs.length, `tids ${tids.join(',')} are not distinct`);
  const shown = parseTargets((await adm('--lld', 'iscsi', '--mode', 'target', '--op', 'show')).stdout);
  assert.deepEqual(
    shown.map((s) => [String(s.tid), s.iqn, s.luns.find((l) => l.lun === 1)?.backingPath, s.accounts]).sort(),
    specs.map((s, i) => [tids[i], s.iqn, s.backingPath, [s.chap.username]]).sort(),
  );

  // An export that cannot be built must not keep the others from coming back after a tgtd death.
  const broken: ExportSpec = { ...specs[0]!, volumeId: 'broken', iqn: 'iqn.2010-10.org.openstack:volume-broken', backingPath: join(dir, 'missing.img') };
  await assert.rejects(helper.createExport(broken));
  const pid = (helper as TgtadmTargetHelper).tgtdPid!;
  process.kill(pid, 'SIGKILL');
  await waitFor('the exports to be rebuilt', async () => {
    const after = parseTargets((await adm('--lld', 'iscsi', '--mode', 'target', '--op', 'show')).stdout);
    return specs.every((spec) => after.some((s) => s.iqn === spec.iqn && s.luns.some((l) => l.lun === 1)));
  });
  assert.notEqual((helper as TgtadmTargetHelper).tgtdPid, pid);
  assert.deepEqual(await Promise.all(specs.map((spec) => helper.createExport(spec))), tids);

  await Promise.all([...specs, broken].map((spec) => helper.removeExport(spec.volumeId, spec.iqn)));
  assert.deepEqual(parseTargets((await adm('--lld', 'iscsi', '--mode', 'target', '--op', 'show')).stdout), []);
});
