// The Prometheus endpoint of a running service, scraped as Prometheus would after real
// traffic: API requests, storage steps, volume statuses and iSCSI logins (one through
// libiscsi with the CHAP credentials the API returned, one with a wrong password).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { freePort, requireTool } from '../helpers/env.js';
import { CLI_PATH, run, startServeProcess } from '../helpers/process.js';

const INITIATOR = 'iqn.1993-08.org.debian:01:metrics-test';

/** The value of one sample, matched by name and exact label set as Prometheus prints them. */
function sample(text: string, series: string): number | null {
  const line = text.split('\n').find((l) => l.startsWith(`${series} `));
  return line ? Number(line.slice(series.length + 1)) : null;
}

test('GET /metrics reports requests, storage steps, volume statuses and iSCSI logins, and no secrets', async (t) => {
  const inq = requireTool(t, 'iscsi-inq');
  if (!inq) return;
  const metricsPort = await freePort();
  const svc = await startServeProcess(t, ['--metrics-listen', `127.0.0.1:${metricsPort}`]);
  assert.match(svc.output().stdout, new RegExp(`metrics: http://127\\.0\\.0\\.1:${metricsPort}/metrics`));
  const api = (method: string, path: string, body?: unknown) =>
    fetch(`${svc.endpoint}/${svc.projectId}/${path}`, {
      method,
      headers: { 'X-Auth-Token': svc.token, 'Content-Type': 'application/json' },
      body: body === undefined ? undefined : JSON.stringify(body),
    }).then(async (res) => ({ status: res.status, body: (await res.json().catch(() => null)) as any }));

  const created = await api('POST', 'volumes', { volume: { size: 1 } });
  assert.equal(created.status, 202);
  const id = created.body.volume.id as string;
  for (let i = 0; i < 200 && (await api('GET', `volumes/${id}`)).body.volume.status !== 'available'; i++) {
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  assert.equal((await api('POST', `volumes/${id}/action`, { 'os-reserve': {} })).status, 202);
  const init = await api('POST', `volumes/${id}/action`, { 'os-initialize_connection': { connector: { initiator: INITIATOR } } });
  assert.equal(init.status, 200);
  const data = init.body.connection_info.data;
  const url = (password: string) => `iscsi://${data.auth_username}%${password}@${data.target_portal}/${data.target_iqn}/${data.target_lun}`;
  assert.equal((await run(inq, ['-i', INITIATOR, url(data.auth_password)])).code, 0, 'login with the returned credentials');
  assert.notEqual((await run(inq, ['-i', INITIATOR, url('not-the-password')])).code, 0, 'login with a wrong password');
  assert.equal((await api('POST', 'volumes/no-such-volume/action', { 'os-reserve': {} })).status, 404);

  const res = await fetch(`http://127.0.0.1:${metricsPort}/metrics`);
  assert.equal(res.status, 200);
  assert.match(res.headers.get('content-type') ?? '', /^text\/plain; version=0\.0\.4/);
  const text = await res.text();

  assert.equal(sample(text, 'cinderblock_api_requests_total{method="POST",route="/v3/volumes",status="202"}'), 1);
  assert.equal(sample(text, 'cinderblock_api_requests_total{method="POST",route="/v3/volumes/:id/action",status="202"}'), 1);
  assert.equal(sample(text, 'cinderblock_api_requests_total{method="POST",route="/v3/volumes/:id/action",status="200"}'), 1);
  assert.equal(sample(text, 'cinderblock_api_requests_total{method="POST",route="/v3/volumes/:id/action",status="404"}'), 1);
  assert.equal(sample(text, 'cinderblock_api_request_duration_seconds_count{method="POST",route="/v3/volumes/:id/action"}'), 3);
  assert.ok((sample(text, 'cinderblock_api_requests_total{method="GET",route="/v3/volumes/:id",status="200"}') ?? 0) >= 1);
  assert.equal(sample(text, 'cinderblock_volume_rpc_calls_total{call="createVolume",outcome="ok"}'), 1);
  assert.equal(sample(text, 'cinderblock_volume_rpc_calls_total{call="initializeConnection",outcome="ok"}'), 1);
  assert.equal(sample(text, 'cinderblock_volume_rpc_duration_seconds_count{call="initializeConnection"}'), 1);
  assert.equal(sample(text, 'cinderblock_volumes{status="attaching"}'), 1);
  assert.equal(sample(text, 'cinderblock_iscsi_logins_total{outcome="ok"}'), 1);
  assert.equal(sample(text, 'cinderblock_iscsi_logins_total{outcome="refused"}'), 1);
  assert.equal(sample(text, 'cinderblock_iscsi_sessions'), 0, 'iscsi-inq logged out');
  assert.ok((sample(text, 'process_cpu_seconds_total') ?? 0) > 0, "Node's process metrics are there too");
  // Ids, tokens and CHAP credentials never become labels.
  for (const secret of [data.auth_password, data.auth_username, svc.projectId, id]) assert.ok(!text.includes(secret), `no ${secret} in the metrics`);

  assert.equal((await fetch(`http://127.0.0.1:${metricsPort}/other`)).status, 404);
  assert.equal((await fetch(`http://127.0.0.1:${metricsPort}/metrics`, { method: 'POST' })).status, 404);
});

test('a service without --metrics-listen has no metrics endpoint; a bad address is refused naming the setting', async (t) => {
  const svc = await startServeProcess(t);
  assert.doesNotMatch(svc.output().stdout, /metrics:/);
  const bad = await run(process.execPath, [CLI_PATH, 'serve', '--data-dir', svc.dataDir, '--metrics-listen', 'nowhere']);
  assert.equal(bad.code, 1);
  assert.match(bad.stderr, /setting metrics_listen: expected HOST:PORT, got "nowhere"/);
});
