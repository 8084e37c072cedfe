import { test } from 'node:test';
import assert from 'node:assert/strict';
import { requireTool } from '../helpers/env.js';
import { run, startServeProcess } from '../helpers/process.js';
import { apiCalls } from './api-calls.js';

const INITIATOR = 'iqn.2024-01.org.example:online-extend';
const GiB = 1024 ** 3;

test('os-extend of an attached volume (3.42) reaches the initiator as the new capacity', { timeout: 90_000 }, async (t) => {
  const readCapacity = requireTool(t, 'iscsi-readcapacity16');
  if (!readCapacity) return;
  const svc = await startServeProcess(t);
  const { call, waitFor } = apiCalls(svc);

  const created = await call('POST', '/volumes', { volume: { size: 1 } });
  const id: string = created.json.volume.id;
  await waitFor(id, 'available');
  await call('POST', `/volumes/${id}/action`, { 'os-reserve': null });
  const init = await call('POST', `/volumes/${id}/action`, { 'os-initialize_connection': { connector: { initiator: INITIATOR, host: 'h1' } } });
  assert.equal(init.status, 200);
  assert.equal((await call('POST', `/volumes/${id}/action`, { 'os-attach': { mountpoint: '/dev/vdb', host_name: 'h1' } })).status, 202);
  const d = init.json.connection_info.data;
  const url = `iscsi://${d.auth_username}%${d.auth_password}@${d.target_portal}/${d.target_iqn}/${d.target_lun}`;
  const capacity = async () => {
    const out = await run(readCapacity, ['-s', '-i', INITIATOR, url]);
    assert.equal(out.code, 0, out.stderr);
    return Number(out.stdout.trim());
  };
  assert.equal(await capacity(), 1 * GiB);

  const below = await call('POST', `/volumes/${id}/action`, { 'os-extend': { new_size: 2 } }, '3.41');
  assert.equal(below.status, 400, 'below 3.42 an attached volume cannot be extended');
  assert.equal((await call('POST', `/volumes/${id}/action`, { 'os-extend': { new_size: 2 } })).status, 202);
  await waitFor(id, 'in-use', 2);
  assert.equal(await capacity(), 2 * GiB);
});
