// Copies through the API, checked through their data as a host sees it over iSCSI: a clone
// of an attached volume, and a snapshot of one restored into a new volume. What was written
// reads back, the rest reads as zeros, copies are separate, and they take no more disk than
// the source's written blocks.
import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { stat } from 'node:fs/promises';
import { join } from 'node:path';
import { requireTool } from '../helpers/env.js';
import { run, startServeProcess } from '../helpers/process.js';

const QEMU_INITIATOR = 'iqn.2008-11.org.linux-kvm';
const MiB = 1024 * 1024;

async function harness(t: TestContext, qemuIo: string) {
  const svc = await startServeProcess(t);
  const call = async (method: string, path: string, body?: unknown) => {
    const res = await fetch(`${svc.endpoint}/${svc.projectId}/${path}`, {
      method,
      headers: { 'X-Auth-Token': svc.token, 'Content-Type': 'application/json' },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const text = await res.text();
    return { status: res.status, body: text ? JSON.parse(text) : null, text };
  };
  const available = async (id: string) => {
    let volume: any;
    for (let i = 0; i < 300; i++) {
      volume = (await call('GET', `volumes/${id}`)).body.volume;
      if (volume.status === 'available') return volume;
      assert.notEqual(volume.status, 'error');
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    assert.fail(`volume ${id} stayed ${volume.status}`);
  };
  const attach = async (id: string) => {
    assert.equal((await call('POST', `volumes/${id}/action`, { 'os-reserve': {} })).status, 202);
    const init = await call('POST', `volumes/${id}/action`, { 'os-initialize_connection': { connector: { initiator: QEMU_INITIATOR, host: 'compute-1' } } });
    assert.equal(init.status, 200, init.text);
    assert.equal((await call('POST', `volumes/${id}/action`, { 'os-attach': { mountpoint: '/dev/vdb', host_name: 'compute-1', mode: 'rw' } })).status, 202);
    const data = init.body.connection_info.data;
    return `iscsi://${data.auth_username}%${data.auth_password}@${data.target_portal}/${data.target_iqn}/${data.target_lun}`;
  };
  const io = async (url: string, commands: string[]) => {
    const out = await run(qemuIo, ['-f', 'raw', ...commands.flatMap((c) => ['-c', c]), url], { timeoutMs: 60_000 });
    assert.equal(out.code, 0, `${out.stdout}\n${out.stderr}`);
    assert.doesNotMatch(out.stdout, /Pattern verification failed/, commands.join('; '));
  };
  return { svc, call, available, attach, io };
}

test('a clone of an attached volume holds its data, grown, sparse and separate', { timeout: 120_000 }, async (t) => {
  const qemuIo = requireTool(t, 'qemu-io');
  if (!qemuIo) return;
  const { svc, call, available, attach, io } = await harness(t, qemuIo);

  const source = (await call('POST', 'volumes', { volume: { size: 1, name: 'source' } })).body.volume.id as string;
  await available(source);
  const sourceUrl = await attach(source);
  await io(sourceUrl, ['write -P 0x5a 0 1M', 'write -P 0xa5 512M 64k', 'flush']);

  // Cloned while attached, as Cinder allows, and grown to 2 GiB.
  const created = await call('POST', 'volumes', { volume: { source_volid: source, size: 2, name: 'clone' } });
  assert.equal(created.status, 202, created.text);
  const clone = await available(created.body.volume.id);
  assert.equal(clone.source_volid, source);
  assert.equal(clone.size, 2);

  const cloneUrl = await attach(clone.id);
  await io(cloneUrl, ['read -P 0x5a 0 1M', 'read -P 0xa5 512M 64k', 'read -P 0 1M 1M', 'read -P 0 1536M 1M']);
  await io(cloneUrl, ['write -P 0x11 0 64k', 'flush']);
  await io(sourceUrl, ['read -P 0x5a 0 1M']);

  const file = await stat(join(svc.dataDir, 'volumes', `volume-${clone.id}`));
  assert.equal(file.size, 2 * 1024 * MiB);
  assert.ok(file.blocks * 512 < 16 * MiB, `the clone takes ${file.blocks * 512} bytes of disk, not its 2 GiB`);
});

test('a snapshot of an attached volume restores into a new volume as it was', { timeout: 120_000 }, async (t) => {
  const qemuIo = requireTool(t, 'qemu-io');
  if (!qemuIo) return;
  const { svc, call, available, attach, io } = await harness(t, qemuIo);
  const volume = (await call('POST', 'volumes', { volume: { size: 1 } })).body.volume.id as string;
  await available(volume);
  const url = await attach(volume);
  await io(url, ['write -P 0x5a 0 1M', 'flush']);

  // In use, so only with force, as in Cinder.
  const snap = await call('POST', 'snapshots', { snapshot: { volume_id: volume, force: true, name: 'before' } });
  assert.equal(snap.status, 202, snap.text);
  let snapshot = snap.body.snapshot;
  for (let i = 0; i < 300 && snapshot.status === 'creating'; i++) {
    await new Promise((resolve) => setTimeout(resolve, 50));
    snapshot = (await call('GET', `snapshots/${snapshot.id}`)).body.snapshot;
  }
  assert.equal(snapshot.status, 'available');
  // Later writes to the volume do not reach the snapshot.
  await io(url, ['write -P 0x77 0 1M', 'flush']);

  const restored = await call('POST', 'volumes', { volume: { snapshot_id: snapshot.id, size: 2 } });
  assert.equal(restored.status, 202, restored.text);
  const copy = await available(restored.body.volume.id);
  assert.equal(copy.snapshot_id, snapshot.id);
  const copyUrl = await attach(copy.id);
  await io(copyUrl, ['read -P 0x5a 0 1M', 'read -P 0 1M 1M', 'read -P 0 1536M 1M']);
  await io(url, ['read -P 0x77 0 1M']);

  const file = await stat(join(svc.dataDir, 'snapshots', `snapshot-${snapshot.id}`));
  assert.ok(file.blocks * 512 < 16 * MiB, `the snapshot takes ${file.blocks * 512} bytes of disk, not its 1 GiB`);
});
