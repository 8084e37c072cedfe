// What an operator and a user see through the unmodified `cinder` CLI (python3-cinderclient,
// noauth) when capacity decides: get-pools with and without --detail, and the user message
// of a volume no backend could hold in message-list and message-show.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { statfs } from 'node:fs/promises';
import { join } from 'node:path';
import { requireTool, UNLIMITED_QUOTA_ENV } from '../helpers/env.js';
import { run, startServeProcess } from '../helpers/process.js';
import { parseTables, properties, records, type Table } from '../helpers/tables.js';

test('cinder CLI: get-pools, and message-list for a volume too big for every backend', async (t) => {
  const cinder = requireTool(t, '/usr/bin/cinder');
  if (!cinder) return;
  const svc = await startServeProcess(t, ['--max-over-subscription-ratio', '3.5'], UNLIMITED_QUOTA_ENV);
  const env = Object.fromEntries(Object.entries(process.env).filter(([k]) => !/^(OS_|CINDER_)/.test(k)));
  const cli = async (args: string[]): Promise<Table[]> => {
    const auth = ['--os-auth-type', 'noauth', '--os-endpoint', `${svc.endpoint}/${svc.projectId}`, '--os-user-id', 'admin', '--os-project-id', svc.projectId];
    const result = await run(cinder, [...auth, ...args], { env, timeoutMs: 60_000 });
    assert.equal(result.code, 0, `cinder ${args.join(' ')} failed:\n${result.stderr}\n${result.stdout}`);
    return parseTables(result.stdout);
  };
  const statusOf = async (id: string): Promise<string> => {
    const res = await fetch(`${svc.endpoint}/${svc.projectId}/volumes/${id}`, { headers: { 'X-Auth-Token': svc.token } });
    assert.equal(res.status, 200);
    return ((await res.json()) as { volume: { status: string } }).volume.status;
  };

  const [plain, detailed] = await Promise.all([cli(['get-pools']), cli(['get-pools', '--detail'])]);
  assert.equal(plain.length, 1, 'one pool');
  const pool = properties(plain[0]);
  assert.match(pool.name!, /^.+@file#file$/);
  assert.deepEqual(Object.keys(pool), ['name']);
  const detail = properties(detailed[0]);
  assert.equal(detail.name, pool.name);
  const fs = await statfs(join(svc.dataDir, 'volumes'));
  assert.equal(Number(detail.total_capacity_gb), Math.round((fs.blocks * fs.bsize * 100) / 1024 ** 3) / 100);
  assert.ok(Number(detail.free_capacity_gb) > 0, detail.free_capacity_gb);
  // Python prints the JSON booleans and numbers it was given.
  assert.equal(detail.thin_provisioning_support, 'True');
  assert.equal(detail.thick_provisioning_support, 'False');
  assert.equal(detail.max_over_subscription_ratio, '3.5');
  assert.equal(detail.reserved_percentage, '0');
  assert.equal(detail.storage_protocol, 'iSCSI');
  assert.equal(detail.volume_backend_name, 'file');
  for (const key of ['allocated_capacity_gb', 'provisioned_capacity_gb', 'vendor_name', 'driver_version', 'timestamp']) assert.ok(key in detail, `--detail shows ${key}`);

  const created = properties((await cli(['create', '--name', 'too-big', '100000000']))[0]);
  for (let i = 0; i < 50 && (await statusOf(created.id!)) === 'creating'; i++) await new Promise((r) => setTimeout(r, 100));
  assert.equal(await statusOf(created.id!), 'error');

  const messages = records((await cli(['--os-volume-api-version', '3.3', 'message-list']))[0]);
  assert.deepEqual(messages.map(({ ID: _id, ...rest }) => rest), [
    {
      'Resource Type': 'VOLUME',
      'Resource UUID': created.id!,
      'Event ID': 'VOLUME_VOLUME_001_003',
      'User Message': 'schedule allocate volume:Could not find any available weighted backend.',
    },
  ]);
  const shown = properties((await cli(['--os-volume-api-version', '3.3', 'message-show', messages[0]!.ID!]))[0]);
  assert.equal(shown.id, messages[0]!.ID);
  assert.equal(shown.message_level, 'ERROR');
  assert.equal(shown.resource_uuid, created.id);
  assert.match(shown.request_id!, /^req-[0-9a-f-]{36}$/);
  await cli(['--os-volume-api-version', '3.3', 'message-delete', messages[0]!.ID!]);
  assert.deepEqual(records((await cli(['--os-volume-api-version', '3.3', 'message-list']))[0]), []);
});
