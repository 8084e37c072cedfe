// python-cinderclient used as a library, the way Nova calls it: the legacy six-call
// attach/detach flow and the attachments flow at 3.44 with a service token. The script
// reports what it saw after every step; the expectations live here, taken from how real
// Cinder 21 behaved (the volume's status and number of attachments after each call).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { fileURLToPath } from 'node:url';
import { forEachDatabase } from '../helpers/databases.js';
import { findTool, requireTool } from '../helpers/env.js';
import { run, startServeProcess } from '../helpers/process.js';

const SCRIPT = fileURLToPath(new URL('../../../test/interop/py/legacy_flow.py', import.meta.url));

interface Step {
  step: string;
  status: string;
  attachments: number;
}
interface Login {
  ok: boolean;
  detail: string;
}
interface FlowReport {
  volume_id: string;
  instance_uuid: string;
  steps: Step[];
  connection_info: Record<string, unknown>;
  iscsi: Record<string, Login>;
  created_status?: string;
  updated_status?: string;
  shown_status?: string;
  volume_attachment?: Record<string, unknown> | null;
}

const row = (s: Step) => [s.step, s.status, s.attachments];

// Both database engines: the flows change state through every conditional update there is.
forEachDatabase('cinderclient library', (db) => {
  test('legacy and attachments flows', async (t) => {
    const python = requireTool(t, '/usr/bin/python3');
    if (!python) return;
    const iscsiInq = findTool('iscsi-inq');
    const svc = await startServeProcess(t, ['--database', db().url]);
    const args = [SCRIPT, '--endpoint', svc.endpoint, '--project', svc.projectId];
    if (iscsiInq) args.push('--iscsi-inq', iscsiInq);
    const result = await run(python, args, { timeoutMs: 45_000 });
    assert.equal(result.code, 0, `legacy_flow.py failed:\n${result.stderr}`);
    const report = JSON.parse(result.stdout) as { legacy: FlowReport; attachments: FlowReport };

    await t.test('legacy six-call flow', () => {
      const { steps, connection_info: info } = report.legacy;
      assert.deepEqual(steps.map(row), [
        ['created', 'available', 0],
        ['reserve', 'attaching', 0],
        ['initialize_connection', 'attaching', 0],
        ['attach', 'in-use', 1],
        ['begin_detaching', 'detaching', 1],
        ['terminate_connection', 'detaching', 1],
        ['detach', 'available', 0],
      ]);
      assert.equal(info.driver_volume_type, 'iscsi');
      const data = info.data as Record<string, unknown>;
      assert.equal(data.volume_id, report.legacy.volume_id);
      assert.equal(data.auth_method, 'CHAP');
      assert.equal(data.access_mode, 'rw');
      for (const key of ['target_portal', 'target_iqn', 'target_lun', 'auth_username', 'auth_password']) {
        assert.ok(data[key] !== undefined && data[key] !== '', `connection_info.data.${key}`);
      }
    });

    await t.test('attachments flow at 3.44', () => {
      const { steps, connection_info: info } = report.attachments;
      assert.deepEqual(steps.map(row), [
        ['created', 'available', 0],
        ['attachment_create', 'reserved', 0],
        ['attachment_update', 'attaching', 0],
        ['attachment_complete', 'in-use', 1],
        ['attachment_delete', 'available', 0],
      ]);
      // Real Cinder answers create and update with the attachment as it was reserved; only
      // os-complete changes the status the client sees.
      assert.equal(report.attachments.created_status, 'reserved', 'status in the POST /attachments answer');
      assert.equal(report.attachments.updated_status, 'reserved', 'status in the PUT /attachments/{id} answer');
      assert.equal(report.attachments.shown_status, 'attached');
      assert.equal(report.attachments.volume_attachment?.server_id, report.attachments.instance_uuid);
      assert.equal(report.attachments.volume_attachment?.host_name, 'interop-host');
      // The attachments API returns connection_info flat: the driver's data plus its type.
      assert.equal(info.driver_volume_type, 'iscsi');
      assert.equal(info.auth_method, 'CHAP');
      assert.ok(info.target_iqn, 'connection_info.target_iqn');
    });

    await t.test('connection_info logs in while attached, and only then', (st) => {
      if (!requireTool(st, 'iscsi-inq')) return;
      const { legacy, attachments } = report;
      assert.equal(legacy.iscsi.attached?.ok, true, `legacy, attached: ${legacy.iscsi.attached?.detail}`);
      assert.equal(legacy.iscsi.after_terminate?.ok, false, 'legacy: refused after terminate_connection');
      assert.equal(legacy.iscsi.after_detach?.ok, false, 'legacy: refused after detach');
      assert.equal(attachments.iscsi.attached?.ok, true, `attachments, attached: ${attachments.iscsi.attached?.detail}`);
      assert.equal(attachments.iscsi.after_delete?.ok, false, 'attachments: refused after delete');
    });
  });
});
