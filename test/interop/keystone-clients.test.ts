// Unmodified clients through a real Keystone's catalog, the way a cloud's users and Nova
// reach Block Storage: `openstack` and `cinder` with password authentication, and
// python-cinderclient on a keystoneauth session that sends Nova's service token along
// (both attach flows of the seed, ending in an iSCSI login with what came back).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { writeFile } from 'node:fs/promises';
import { createServer } from 'node:http';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { findTool, requireTool } from '../helpers/env.js';
import { startKeystone } from '../helpers/keystone.js';
import { run, scratchDir, startServeProcess } from '../helpers/process.js';

const SCRIPT = fileURLToPath(new URL('../../../test/interop/py/legacy_flow.py', import.meta.url));

test('openstack, cinder and cinderclient with Nova\'s service token, through the Keystone catalog', async (t) => {
  const openstack = requireTool(t, '/usr/bin/openstack');
  const cinder = requireTool(t, '/usr/bin/cinder');
  const python = requireTool(t, '/usr/bin/python3');
  if (!openstack || !cinder || !python) return;
  const ks = await startKeystone(t);
  if (!ks) return;
  const dir = await scratchDir(t, 'cinderblock-clients-');
  const passwordFile = join(dir, 'password');
  await writeFile(passwordFile, ks.users.cinder.password);
  const svc = await startServeProcess(t, ['--auth-strategy', 'keystone', '--keystone-url', ks.url, '--keystone-password-file', passwordFile]);
  // The openstack CLI discovers the image service's versions before any volume command,
  // though none of these uses it: a version document is all the catalog's image endpoint needs.
  const glance = createServer((req, res) => {
    const self = `http://${req.headers.host}/v2/`;
    res.writeHead(200, { 'Content-Type': 'application/json' }).end(
      JSON.stringify({ versions: [{ id: 'v2.6', status: 'CURRENT', links: [{ rel: 'self', href: self }] }] }),
    );
  });
  await new Promise<void>((r) => glance.listen(0, '127.0.0.1', r));
  t.after(() => new Promise<void>((r) => glance.close(() => r())));
  const glanceUrl = `http://127.0.0.1:${(glance.address() as { port: number }).port}`;
  await ks.setVolumeEndpoint(`${svc.endpoint}/%(project_id)s`, { imageUrl: glanceUrl });
  // Nothing of a developer's own cloud may leak into what the clients do.
  const base = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('OS_')));

  const osc = async (cloud: string, args: string[]) => {
    const result = await run(openstack, ['--os-cloud', cloud, ...args], { env: { ...base, OS_CLIENT_CONFIG_FILE: ks.cloudsYaml }, timeoutMs: 60_000 });
    return { ...result, json: result.code === 0 && result.stdout.trim() ? JSON.parse(result.stdout) : null };
  };

  await t.test('openstack: a member creates, lists, shows and deletes; a reader is refused a create', async () => {
    const name = `osc-${randomUUID().slice(0, 8)}`;
    const created = await osc('ks-alice', ['volume', 'create', '--size', '1', name, '-f', 'json']);
    assert.equal(created.code, 0, created.stderr);
    assert.equal(created.json.name, name);
    const [listed, readersList, refused] = await Promise.all([
      osc('ks-alice', ['volume', 'list', '-f', 'json']),
      osc('ks-bob', ['volume', 'list', '-f', 'json']),
      osc('ks-bob', ['volume', 'create', '--size', '1', 'nope', '-f', 'json']),
    ]);
    assert.deepEqual(listed.json.map((v: any) => v.Name), [name]);
    assert.deepEqual(readersList.json.map((v: any) => v.Name), [name]);
    assert.notEqual(refused.code, 0);
    assert.match(refused.stderr, /Policy doesn't allow volume:create to be performed\. \(HTTP 403\)/);
    const others = await osc('ks-dave', ['volume', 'show', created.json.id, '-f', 'json']);
    assert.notEqual(others.code, 0);
    assert.match(others.stderr, /No volume with a name or ID of/);
    for (let i = 0; i < 100; i++) {
      const res = await fetch(`${svc.endpoint}/${ks.projects.demo.id}/volumes/${created.json.id}`, {
        headers: { 'X-Auth-Token': (await ks.token('alice')).token },
      });
      if (((await res.json()) as any).volume.status === 'available') break;
      await new Promise((r) => setTimeout(r, 100));
    }
    const deleted = await osc('ks-alice', ['volume', 'delete', created.json.id]);
    assert.equal(deleted.code, 0, deleted.stderr);
  });

  await t.test('cinder: password authentication from the environment', async () => {
    const env = {
      ...base,
      OS_AUTH_URL: ks.url,
      OS_USERNAME: 'dave',
      OS_PASSWORD: ks.users.dave.password,
      OS_PROJECT_ID: ks.projects.other.id,
      OS_USER_DOMAIN_ID: 'default',
      OS_VOLUME_API_VERSION: '3.70',
    };
    const created = await run(cinder, ['create', '--name', 'from-cinder', '1'], { env, timeoutMs: 60_000 });
    assert.equal(created.code, 0, created.stderr);
    assert.match(created.stdout, /\| name +\| from-cinder +\|/);
    const listed = await run(cinder, ['list'], { env, timeoutMs: 60_000 });
    assert.equal(listed.code, 0, listed.stderr);
    assert.match(listed.stdout, /from-cinder/);
  });

  await t.test("cinderclient as Nova: both attach flows with Nova's service token", async () => {
    const iscsiInq = findTool('iscsi-inq');
    const args = [SCRIPT, '--keystone-url', ks.url, '--user', 'alice', '--project-name', 'demo', '--service-user', 'nova'];
    if (iscsiInq) args.push('--iscsi-inq', iscsiInq);
    const env = { ...base, CB_USER_PASSWORD: ks.users.alice.password, CB_SERVICE_PASSWORD: ks.users.nova.password };
    const result = await run(python, args, { env, timeoutMs: 90_000 });
    assert.equal(result.code, 0, `legacy_flow.py failed:\n${result.stderr}`);
    const report = JSON.parse(result.stdout);
    const rows = (flow: any) => flow.steps.map((s: any) => [s.step, s.status, s.attachments]);
    assert.deepEqual(rows(report.legacy), [
      ['created', 'available', 0],
      ['reserve', 'attaching', 0],
      ['initialize_connection', 'attaching', 0],
      ['attach', 'in-use', 1],
      ['begin_detaching', 'detaching', 1],
      ['terminate_connection', 'detaching', 1],
      ['detach', 'available', 0],
    ]);
    // The delete of an attachment a server uses goes through because Nova's token came along.
    assert.deepEqual(rows(report.attachments), [
      ['created', 'available', 0],
      ['attachment_create', 'reserved', 0],
      ['attachment_update', 'attaching', 0],
      ['attachment_complete', 'in-use', 1],
      ['attachment_delete', 'available', 0],
    ]);
    if (requireTool(t, 'iscsi-inq')) {
      assert.equal(report.legacy.iscsi.attached?.ok, true, report.legacy.iscsi.attached?.detail);
      assert.equal(report.attachments.iscsi.attached?.ok, true, report.attachments.iscsi.attached?.detail);
      assert.equal(report.attachments.iscsi.after_delete?.ok, false);
    }
  });
});
