// The unmodified `cinder` CLI (python3-cinderclient 9.1, noauth) against a served process:
// version discovery, volumes, a multiattach volume type, and the attachments API with and
// without a connector. Where the connector is given, the returned connection_info must log
// in with libiscsi while attached and be refused once the attachment is gone.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { requireTool } from '../helpers/env.js';
import { run, startServeProcess } from '../helpers/process.js';
import { parseTables, properties, records, type Table } from '../helpers/tables.js';

/** CHAP secrets are printed by attachment-create; they must not reach the test log. */
function redact(text: string): string {
  return text.replace(/(auth_password\s*\|\s*)\S+/g, '$1***');
}

test('cinder CLI: volumes, multiattach type and attachments', { concurrency: 3 }, async (t) => {
  const cinder = requireTool(t, '/usr/bin/cinder');
  if (!cinder) return;
  const svc = await startServeProcess(t);
  // Anything a developer exported for another cloud must not redirect these commands.
  const env = Object.fromEntries(Object.entries(process.env).filter(([k]) => !/^(OS_|CINDER_)/.test(k)));
  const cli = async (args: string[], endpoint = `${svc.endpoint}/${svc.projectId}`): Promise<Table[]> => {
    const auth = ['--os-auth-type', 'noauth', '--os-endpoint', endpoint, '--os-user-id', 'admin', '--os-project-id', svc.projectId];
    const result = await run(cinder, [...auth, ...args], { env, timeoutMs: 60_000 });
    assert.equal(result.code, 0, `cinder ${args.join(' ')} failed:\n${redact(result.stderr)}\n${redact(result.stdout)}`);
    return parseTables(result.stdout);
  };
  const cliFails = async (args: string[]): Promise<string> => {
    const auth = ['--os-auth-type', 'noauth', '--os-endpoint', `${svc.endpoint}/${svc.projectId}`, '--os-user-id', 'admin', '--os-project-id', svc.projectId];
    const result = await run(cinder, [...auth, ...args], { env, timeoutMs: 60_000 });
    assert.notEqual(result.code, 0, `cinder ${args.join(' ')} should fail:\n${redact(result.stdout)}`);
    return result.stderr;
  };
  // Each CLI run costs a Python start-up (seconds on a busy machine), so the state between
  // commands is read over plain HTTP; the commands under test all go through the CLI.
  const volume = async (id: string) => {
    const res = await fetch(`${svc.endpoint}/${svc.projectId}/volumes/${id}`, {
      headers: { 'X-Auth-Token': svc.token, 'OpenStack-API-Version': 'volume 3.48' },
    });
    assert.equal(res.status, 200, `GET volume ${id}`);
    return ((await res.json()) as { volume: { status: string; multiattach: boolean; attachments: Array<{ attachment_id: string; server_id: string }> } }).volume;
  };
  const waitStatus = async (id: string, status: string) => {
    let vol = await volume(id);
    for (let i = 0; i < 40 && vol.status !== status; i++) {
      await new Promise((r) => setTimeout(r, 100));
      vol = await volume(id);
    }
    assert.equal(vol.status, status, `volume ${id}`);
    return vol;
  };

  const name = `cli-${randomUUID().slice(0, 8)}`;
  // The multiattach type and its volume are the longest chain of commands, so they start now,
  // beside the first volume's creation; the multiattach case below awaits them.
  const multiattachVolume = (async () => {
    const typeName = `multi-${randomUUID().slice(0, 8)}`;
    const type = records((await cli(['type-create', typeName]))[0]);
    assert.equal(type[0]?.Name, typeName);
    await cli(['type-key', typeName, 'set', 'multiattach=<is> True']);
    const multi = properties((await cli(['create', '--volume-type', typeName, '--name', `${name}-multi`, '1']))[0]);
    assert.equal(multi.volume_type, typeName);
    const ready = await waitStatus(multi.id!, 'available');
    assert.equal(ready.multiattach, true, 'the type extra spec makes the volume multiattach');
    return multi.id!;
  })();
  // Its failure is reported where it is awaited, not as an unhandled rejection before that.
  multiattachVolume.catch(() => {});
  const created = properties((await cli(['create', '--name', name, '1']))[0]);
  assert.match(created.id!, /^[0-9a-f-]{36}$/);
  assert.equal(created.name, name);
  assert.equal(created.size, '1');
  assert.ok(['creating', 'available'].includes(created.status!), `status after create: ${created.status}`);
  const volumeId = created.id!;
  await waitStatus(volumeId, 'available');

  const listing = t.test('list and show by name, with and without the project in the URL, flags or environment', async () => {
    // The same recipe through environment variables, as a shell profile would set it.
    const fromEnv = run(cinder, ['list'], {
      env: { ...env, OS_AUTH_TYPE: 'noauth', CINDER_ENDPOINT: svc.endpoint, OS_USER_ID: 'admin', OS_PROJECT_ID: svc.projectId, OS_VOLUME_API_VERSION: '3.44' },
      timeoutMs: 60_000,
    });
    const [listed, byName, projectless, envListing] = await Promise.all([
      cli(['list']).then((tables) => records(tables[0])),
      cli(['show', name]).then((tables) => properties(tables[0])),
      cli(['list'], svc.endpoint).then((tables) => records(tables[0])),
      fromEnv,
    ]);
    assert.equal(envListing.code, 0, `cinder list configured by environment:\n${envListing.stderr}`);
    assert.ok(records(parseTables(envListing.stdout)[0]).some((v) => v.ID === volumeId), 'listed with the environment recipe');
    assert.deepEqual(
      listed.filter((v) => v.ID === volumeId).map((v) => [v.Name, v.Size]),
      [[name, '1']],
    );
    assert.equal(byName.id, volumeId);
    assert.equal(byName.name, name);
    assert.ok(projectless.some((v) => v.ID === volumeId), 'the project-less endpoint lists the volume');
  });

  const plain = t.test('attachment without connector: reserve, list, show, complete, delete', async () => {
    const server = randomUUID();
    const attachment = properties((await cli(['attachment-create', volumeId, server]))[0]);
    assert.equal(attachment.status, 'reserved');
    assert.equal(attachment.volume_id, volumeId);
    assert.equal(attachment.instance, server);
    assert.equal((await volume(volumeId)).status, 'reserved');

    const [listed, shown] = await Promise.all([
      cli(['attachment-list', '--volume-id', volumeId]).then((tables) => records(tables[0])),
      cli(['attachment-show', attachment.id!]).then((tables) => properties(tables[0])),
    ]);
    assert.deepEqual(listed.map((a) => [a.ID, a['Volume ID'], a.Status, a['Server ID']]), [[attachment.id, volumeId, 'reserved', server]]);
    assert.equal(shown.id, attachment.id);
    assert.equal(shown.status, 'reserved');

    await cli(['attachment-complete', attachment.id!]);
    const inUse = await volume(volumeId);
    assert.equal(inUse.status, 'in-use');
    assert.deepEqual(inUse.attachments.map((a) => [a.attachment_id, a.server_id]), [[attachment.id, server]]);

    await cli(['attachment-delete', attachment.id!]);
    const after = await volume(volumeId);
    assert.equal(after.status, 'available');
    assert.deepEqual(after.attachments, []);
  });

  const multiattach = t.test('multiattach type: two connected attachments, iSCSI login while attached', async (st) => {
    const multiId = await multiattachVolume;

    const iscsiInq = requireTool(st, 'iscsi-inq');
    // One after the other, as Nova does: like real Cinder, a volume that is still reserved
    // for one attachment refuses a second reservation even when it is multiattach.
    const attachments: Array<{ id: string; info: Record<string, string>; initiator: string }> = [];
    for (const host of ['host-a', 'host-b']) {
      const initiator = `iqn.1993-08.org.debian:01:${host}`;
      const [attachmentTable, infoTable] = await cli([
        'attachment-create', '--connect', 'True', '--initiator', initiator, '--ip', '127.0.0.1',
        '--host', host, '--mountpoint', '/dev/vdb', '--mode', 'rw', multiId, randomUUID(),
      ]);
      const attachment = properties(attachmentTable);
      assert.equal(attachment.status, 'reserved', 'the status stays reserved until os-complete');
      assert.equal(attachment.attach_mode, 'rw');
      const info = properties(infoTable);
      assert.equal(info.driver_volume_type, 'iscsi');
      assert.equal(info.auth_method, 'CHAP');
      for (const key of ['target_portal', 'target_iqn', 'target_lun', 'auth_username', 'auth_password']) {
        assert.ok(info[key], `connection_info has ${key}`);
      }
      assert.equal((await volume(multiId)).status, 'attaching');
      await cli(['attachment-complete', attachment.id!]);
      attachments.push({ id: attachment.id!, info, initiator });
    }
    const inUse = await volume(multiId);
    assert.equal(inUse.status, 'in-use');
    assert.deepEqual(inUse.attachments.map((a) => a.attachment_id).sort(), attachments.map((a) => a.id).sort());

    const login = (a: (typeof attachments)[number]) => {
      const { auth_username, auth_password, target_portal, target_iqn, target_lun } = a.info;
      const url = `iscsi://${auth_username}%${auth_password}@${target_portal}/${target_iqn}/${target_lun}`;
      return run(iscsiInq!, ['-i', a.initiator, url], { timeoutMs: 15_000 });
    };
    if (iscsiInq) {
      for (const a of attachments) {
        const r = await login(a);
        assert.equal(r.code, 0, `iscsi-inq as ${a.initiator} while attached: ${redact(r.stderr)}`);
      }
    }

    // OSSA-2023-003: a user may not delete an attachment a server is using (it has an instance
    // and connection_info); the CLI cannot send a service token, Nova can.
    const refusal = await cliFails(['attachment-delete', attachments[0]!.id]);
    assert.match(refusal, /ConflictNovaUsingAttachment.*\(HTTP 409\)/);
    const novaDelete = async (id: string) => {
      const res = await fetch(`${svc.endpoint}/${svc.projectId}/attachments/${id}`, {
        method: 'DELETE',
        headers: { 'X-Auth-Token': svc.token, 'X-Service-Token': 'svc', 'OpenStack-API-Version': 'volume 3.44' },
      });
      assert.equal(res.status, 200, `DELETE attachment ${id} with a service token`);
    };
    await novaDelete(attachments[0]!.id);
    assert.equal((await volume(multiId)).status, 'in-use', 'one attachment is left');
    if (iscsiInq) {
      assert.notEqual((await login(attachments[0]!)).code, 0, `${attachments[0]!.initiator} is refused once its attachment is deleted`);
      const still = await login(attachments[1]!);
      assert.equal(still.code, 0, `${attachments[1]!.initiator} keeps its access: ${redact(still.stderr)}`);
    }
    await novaDelete(attachments[1]!.id);
    assert.equal((await volume(multiId)).status, 'available');
    if (iscsiInq) assert.notEqual((await login(attachments[1]!)).code, 0, 'no access once the last attachment is gone');
  });

  await Promise.all([listing, plain, multiattach]);

  await t.test('delete', async () => {
    const multiId = (await volumeIdsNamed(`${name}-multi`))[0];
    await cli(['delete', volumeId, ...(multiId ? [multiId] : [])]);
    for (const id of [volumeId, multiId].filter((x): x is string => Boolean(x))) {
      let res = await fetch(`${svc.endpoint}/${svc.projectId}/volumes/${id}`, { headers: { 'X-Auth-Token': svc.token } });
      for (let i = 0; i < 40 && res.status !== 404; i++) {
        await new Promise((r) => setTimeout(r, 100));
        res = await fetch(`${svc.endpoint}/${svc.projectId}/volumes/${id}`, { headers: { 'X-Auth-Token': svc.token } });
      }
      assert.equal(res.status, 404, `volume ${id} is gone`);
    }
  });

  async function volumeIdsNamed(volumeName: string): Promise<string[]> {
    const res = await fetch(`${svc.endpoint}/${svc.projectId}/volumes?name=${volumeName}`, { headers: { 'X-Auth-Token': svc.token } });
    return ((await res.json()) as { volumes: Array<{ id: string }> }).volumes.map((v) => v.id);
  }
});
