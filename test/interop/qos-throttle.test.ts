import { test } from 'node:test';
import assert from 'node:assert/strict';
import { requireTool } from '../helpers/env.js';
import { run, startServeProcess } from '../helpers/process.js';
import { apiCalls } from './api-calls.js';

/** What qemu-img calls itself when nothing names it. */
const INITIATOR = 'iqn.2008-11.org.linux-kvm';

/**
 * Back-end QoS through the whole service, measured by qemu's libiscsi initiator: the
 * limit slows I/O to about the limit, follows the type's specs and the volume's size
 * while attached, and goes away with its key.
 */
test('a back-end IOPS limit holds against qemu-img bench and follows spec and size changes', { timeout: 120_000 }, async (t) => {
  const qemuImg = requireTool(t, 'qemu-img');
  if (!qemuImg) return;
  const svc = await startServeProcess(t);
  const { call, waitFor } = apiCalls(svc);

  const qos = (await call('POST', '/qos-specs', { qos_specs: { name: 'metered', consumer: 'back-end', total_iops_sec_per_gb: '150' } })).json.qos_specs;
  const type = (await call('POST', '/types', { volume_type: { name: 'metered' } })).json.volume_type;
  assert.equal((await call('GET', `/qos-specs/${qos.id}/associate?vol_type_id=${type.id}`)).status, 202);
  const id: string = (await call('POST', '/volumes', { volume: { size: 1, volume_type: type.id } })).json.volume.id;
  await waitFor(id, 'available');
  await call('POST', `/volumes/${id}/action`, { 'os-reserve': null });
  const init = await call('POST', `/volumes/${id}/action`, { 'os-initialize_connection': { connector: { initiator: INITIATOR, host: 'h1' } } });
  assert.equal(init.status, 200);
  const d = init.json.connection_info.data;
  assert.equal(d.qos_specs, null, 'back-end specs are not the host\'s to apply');
  assert.equal((await call('POST', `/volumes/${id}/action`, { 'os-attach': { mountpoint: '/dev/vdb', host_name: 'h1' } })).status, 202);
  const url = `iscsi://${d.auth_username}%${d.auth_password}@${d.target_portal}/${d.target_iqn}/${d.target_lun}`;

  /** IOPS qemu-img bench reaches with `count` 4 KiB reads, 8 in flight. */
  const iops = async (count: number) => {
    const out = await run(qemuImg, ['bench', '-f', 'raw', '-c', String(count), '-d', '8', '-s', '4096', url]);
    assert.equal(out.code, 0, out.stderr);
    const seconds = Number(/Run completed in ([\d.]+) seconds/.exec(out.stdout)?.[1]);
    return count / seconds;
  };
  const near = (measured: number, limit: number) => assert.ok(Math.abs(measured - limit) / limit < 0.15, `${measured.toFixed(0)} IOPS against a limit of ${limit}`);

  near(await iops(450), 150);
  // Twice the size, twice the per-GB limit, while attached.
  assert.equal((await call('POST', `/volumes/${id}/action`, { 'os-extend': { new_size: 2 } })).status, 202);
  await waitFor(id, 'in-use', 2);
  near(await iops(900), 300);
  // A fixed limit set on the specs replaces the per-GB one at once.
  assert.equal((await call('PUT', `/qos-specs/${qos.id}/delete_keys`, { keys: ['total_iops_sec_per_gb'] })).status, 202);
  assert.equal((await call('PUT', `/qos-specs/${qos.id}`, { qos_specs: { total_iops_sec: '100' } })).status, 200);
  near(await iops(300), 100);
  // Without the association there is no limit left.
  assert.equal((await call('GET', `/qos-specs/${qos.id}/disassociate_all`)).status, 202);
  assert.ok((await iops(900)) > 600, 'unthrottled once the type has no QoS specs');
});
