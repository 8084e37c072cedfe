// The unmodified `openstack` CLI (python3-openstackclient 6.0) against a served process,
// with admin_token auth as real Cinder's noauth mode needs. The CLI sends no microversion
// header unless asked, resolves names with a 404-then-filter lookup, and calls Nova's
// servers/detail first for `volume list` (a 404 there must be tolerated by the client).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { requireTool } from '../helpers/env.js';
import { run, startServeProcess } from '../helpers/process.js';

test('openstack CLI: volume create, list, show, delete; snapshots; volume service list', async (t) => {
  const openstack = requireTool(t, '/usr/bin/openstack');
  if (!openstack) return;
  const svc = await startServeProcess(t);
  const env = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('OS_')));
  const osc = async (args: string[]): Promise<unknown> => {
    const auth = ['--os-auth-type', 'admin_token', '--os-token', svc.token, '--os-endpoint', `${svc.endpoint}/${svc.projectId}`];
    const result = await run(openstack, [...auth, ...args], { env, timeoutMs: 60_000 });
    assert.equal(result.code, 0, `openstack ${args.join(' ')} failed:\n${result.stderr}\n${result.stdout}`);
    return result.stdout.trim() ? JSON.parse(result.stdout) : null;
  };
  // Each CLI run costs seconds of Python start-up, so waiting for a state is done over HTTP.
  const volumeStatus = async (id: string) => {
    const res = await fetch(`${svc.endpoint}/${svc.projectId}/volumes/${id}`, { headers: { 'X-Auth-Token': svc.token } });
    return res.status === 200 ? ((await res.json()) as { volume: { status: string } }).volume.status : res.status;
  };
  const waitFor = async (id: string, wanted: string | number) => {
    let status = await volumeStatus(id);
    for (let i = 0; i < 40 && status !== wanted; i++) {
      await new Promise((r) => setTimeout(r, 100));
      status = await volumeStatus(id);
    }
    assert.equal(status, wanted, `volume ${id}`);
  };

  const name = `osc-${randomUUID().slice(0, 8)}`;
  const created = (await osc(['volume', 'create', '--size', '1', name, '-f', 'json'])) as Record<string, unknown>;
  assert.equal(created.name, name);
  assert.equal(created.size, 1);
  assert.match(String(created.id), /^[0-9a-f-]{36}$/);
  const id = String(created.id);
  await waitFor(id, 'available');

  const [shown, listed, atLatest, services] = (await Promise.all([
    osc(['volume', 'show', name, '-f', 'json']),
    osc(['volume', 'list', '-f', 'json']),
    osc(['--os-volume-api-version', '3.70', 'volume', 'show', id, '-f', 'json']),
    osc(['volume', 'service', 'list', '--service', 'cinder-volume', '-f', 'json']),
  ])) as [Record<string, unknown>, Array<Record<string, unknown>>, Record<string, unknown>, Array<Record<string, unknown>>];
  // The storage host as an operator checks on it.
  assert.deepEqual(
    services.map((s) => [s.Binary, String(s.Host).endsWith('@file'), s.Zone, s.Status, s.State]),
    [['cinder-volume', true, 'nova', 'enabled', 'up']],
  );
  // Taken out of scheduling for maintenance, as an operator does it.
  await osc(['volume', 'service', 'set', '--disable', '--disable-reason', 'disk swap', String(services[0]!.Host), 'cinder-volume']);
  const [after] = (await osc(['volume', 'service', 'list', '--service', 'cinder-volume', '--long', '-f', 'json'])) as Array<Record<string, unknown>>;
  assert.deepEqual([after!.Status, after!['Disabled Reason']], ['disabled', 'disk swap']);
  assert.equal(shown.id, id);
  assert.equal(shown.status, 'available');
  assert.deepEqual(
    listed.filter((v) => v.ID === id).map((v) => [v.Name, v.Status, v.Size]),
    [[name, 'available', 1]],
  );
  assert.equal(atLatest.id, id);
  // consumes_quota joined the volume view at 3.65: absent without a version header, present at 3.70.
  assert.ok(!('consumes_quota' in shown), 'no microversion header gives the 3.0 view');
  assert.equal(atLatest.consumes_quota, true);

  // A snapshot by the volume's name, found again by its own name, deleted by it.
  const snapName = `${name}-snap`;
  const snap = (await osc(['volume', 'snapshot', 'create', '--volume', name, snapName, '-f', 'json'])) as Record<string, unknown>;
  assert.equal(snap.name, snapName);
  assert.equal(snap.volume_id, id);
  const snapshotStatus = async () => {
    const res = await fetch(`${svc.endpoint}/${svc.projectId}/snapshots/${String(snap.id)}`, { headers: { 'X-Auth-Token': svc.token } });
    return res.status === 200 ? ((await res.json()) as { snapshot: { status: string } }).snapshot.status : res.status;
  };
  for (let i = 0; i < 100 && (await snapshotStatus()) !== 'available'; i++) await new Promise((r) => setTimeout(r, 100));
  const snapshots = (await osc(['volume', 'snapshot', 'list', '-f', 'json'])) as Array<Record<string, unknown>>;
  assert.deepEqual(snapshots.map((x) => [x.ID, x.Name, x.Status, x.Size]), [[snap.id, snapName, 'available', 1]]);
  await osc(['volume', 'snapshot', 'delete', snapName]);
  for (let i = 0; i < 100 && (await snapshotStatus()) !== 404; i++) await new Promise((r) => setTimeout(r, 100));
  assert.equal(await snapshotStatus(), 404);

  await osc(['volume', 'delete', name]);
  await waitFor(id, 404);
});
