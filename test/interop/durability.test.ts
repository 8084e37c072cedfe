import { test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { freePort, requireTool } from '../helpers/env.js';
import { describe as describeOutput, run, scratchDir, spawnServe } from '../helpers/process.js';

// QEMU's iscsi driver logs in with this initiator name unless told otherwise.
const QEMU_INITIATOR = 'iqn.2008-11.org.linux-kvm';

interface Api {
  call(method: string, path: string, body?: unknown): Promise<{ status: number; json: any }>;
}

function api(endpoint: string, projectId: string): Api {
  return {
    async call(method, path, body) {
      const res = await fetch(`${endpoint}/${projectId}${path}`, {
        method,
        headers: { 'X-Auth-Token': `admin:${projectId}`, 'Content-Type': 'application/json', 'OpenStack-API-Version': 'volume 3.0' },
        body: body === undefined ? undefined : JSON.stringify(body),
      });
      const text = await res.text();
      return { status: res.status, json: text ? JSON.parse(text) : null };
    },
  };
}

async function waitForStatus(client: Api, volumeId: string, status: string): Promise<void> {
  const deadline = Date.now() + 15_000;
  for (;;) {
    const { json } = await client.call('GET', `/volumes/${volumeId}`);
    if (json.volume.status === status) return;
    if (Date.now() > deadline) assert.fail(`volume stayed ${json.volume.status}, expected ${status}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

test('acknowledged writes and the export survive kill -9 of the service', { timeout: 120_000 }, async (t) => {
  const qemuIo = requireTool(t, 'qemu-io');
  if (!qemuIo) return;
  const dataDir = await scratchDir(t);
  const apiPort = await freePort();
  const iscsiPort = await freePort();
  const args = ['--data-dir', dataDir, '--api-listen', `127.0.0.1:${apiPort}`, '--iscsi-listen', `127.0.0.1:${iscsiPort}`];
  const endpoint = `http://127.0.0.1:${apiPort}/v3`;
  const projectId = randomBytes(16).toString('hex');
  const client = api(endpoint, projectId);

  const first = await spawnServe(t, args);
  const created = await client.call('POST', '/volumes', { volume: { size: 1, name: 'durable' } });
  assert.equal(created.status, 202);
  const volumeId: string = created.json.volume.id;
  await waitForStatus(client, volumeId, 'available');

  assert.equal((await client.call('POST', `/volumes/${volumeId}/action`, { 'os-reserve': null })).status, 202);
  const init = await client.call('POST', `/volumes/${volumeId}/action`, {
    'os-initialize_connection': { connector: { initiator: QEMU_INITIATOR, host: 'compute-1', ip: '127.0.0.1' } },
  });
  assert.equal(init.status, 200);
  const data = init.json.connection_info.data;
  const attach = await client.call('POST', `/volumes/${volumeId}/action`, {
    'os-attach': { mountpoint: '/dev/vdb', host_name: 'compute-1', mode: 'rw' },
  });
  assert.equal(attach.status, 202);
  const url = `iscsi://${data.auth_username}%${data.auth_password}@${data.target_portal}/${data.target_iqn}/${data.target_lun}`;

  // One write made durable by SYNCHRONIZE CACHE (flush), one by FUA (write -f); both acknowledged before the kill.
  const wrote = await run(qemuIo, ['-f', 'raw', '-c', 'write -P 0x5a 0 1M', '-c', 'flush', '-c', 'write -f -P 0xa5 2M 64k', url], { timeoutMs: 30_000 });
  assert.equal(wrote.code, 0, `${wrote.stdout}\n${wrote.stderr}`);

  first.proc.kill('SIGKILL');
  const ended = await first.exited;
  assert.equal(ended.signal, 'SIGKILL');

  const second = await spawnServe(t, args);
  const shown = await client.call('GET', `/volumes/${volumeId}`);
  assert.equal(shown.json.volume.status, 'in-use', describeOutput(second.output()));

  // The same connection_info must still log in: the export and its access list were rebuilt from the database.
  const read = await run(qemuIo, ['-f', 'raw', '-c', 'read -P 0x5a 0 1M', '-c', 'read -P 0xa5 2M 64k', '-c', 'read -P 0 1M 1M', url], {
    timeoutMs: 30_000,
  });
  assert.equal(read.code, 0, `${read.stdout}\n${read.stderr}\n${describeOutput(second.output())}`);
  assert.doesNotMatch(read.stdout, /Pattern verification failed/);
});
