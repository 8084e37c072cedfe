// The unmodified `cinder` CLI's quota and limits commands against a served process
// (configured defaults from the environment), and a create past the quota refused with
// Cinder's message as the CLI prints it.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { requireTool } from '../helpers/env.js';
import { run, startServeProcess } from '../helpers/process.js';
import { parseTables, properties, records } from '../helpers/tables.js';

test('cinder CLI: quota-show, quota-usage, quota-update, quota-defaults, quota-class, absolute-limits, quota-delete', async (t) => {
  const cinder = requireTool(t, '/usr/bin/cinder');
  if (!cinder) return;
  const svc = await startServeProcess(t, [], { CINDERBLOCK_QUOTA_VOLUMES: '4', CINDERBLOCK_QUOTA_GIGABYTES: '40' });
  const env = Object.fromEntries(Object.entries(process.env).filter(([k]) => !/^(OS_|CINDER_)/.test(k)));
  const project = svc.projectId;
  const auth = ['--os-auth-type', 'noauth', '--os-endpoint', `${svc.endpoint}/${project}`, '--os-user-id', 'admin', '--os-project-id', project];
  const cli = async (args: string[], ok = true) => {
    const result = await run(cinder, [...auth, ...args], { env, timeoutMs: 60_000 });
    if (ok) assert.equal(result.code, 0, `cinder ${args.join(' ')} failed:\n${result.stderr}\n${result.stdout}`);
    else assert.notEqual(result.code, 0, `cinder ${args.join(' ')} should fail:\n${result.stdout}`);
    return result;
  };
  const table = async (args: string[]) => parseTables((await cli(args)).stdout);

  const shown = properties((await table(['quota-show', project]))[0]);
  assert.deepEqual([shown.volumes, shown.gigabytes, shown.snapshots, shown.per_volume_gigabytes, shown.volumes___DEFAULT__], ['4', '40', '10', '-1', '-1']);
  assert.equal(properties((await table(['quota-defaults', project]))[0]).volumes, '4');

  const updated = properties((await table(['quota-update', '--volumes', '2', '--gigabytes', '30', project]))[0]);
  assert.deepEqual([updated.volumes, updated.gigabytes], ['2', '30']);
  await cli(['create', '1']);
  await cli(['create', '2']);
  const usage = Object.fromEntries(records((await table(['quota-usage', project]))[0]).map((r) => [r.Type, r]));
  assert.deepEqual([usage.volumes?.['In_use'], usage.volumes?.Limit, usage.gigabytes?.['In_use'], usage.gigabytes?.Limit], ['2', '2', '3', '30']);
  const refused = await cli(['create', '1'], false);
  assert.match(refused.stderr, /Maximum number of volumes allowed \(2\) exceeded for quota 'volumes'\. \(HTTP 413\)/);

  const limits = Object.fromEntries(records((await table(['absolute-limits']))[0]).map((r) => [r.Name, r.Value]));
  assert.equal(limits.maxTotalVolumes, '2');
  assert.equal(limits.totalVolumesUsed, '2');
  assert.equal(limits.totalGigabytesUsed, '3');

  assert.equal(properties((await table(['quota-class-update', '--snapshots', '7', 'default']))[0]).snapshots, '7');
  assert.equal(properties((await table(['quota-class-show', 'default']))[0]).snapshots, '7');
  await cli(['quota-delete', project]);
  const reset = properties((await table(['quota-show', project]))[0]);
  assert.deepEqual([reset.volumes, reset.snapshots], ['4', '7']);
});
