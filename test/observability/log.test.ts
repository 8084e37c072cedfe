import assert from 'node:assert/strict';
import { test } from 'node:test';
import { censorSecrets, createLogger } from '../../src/observability/log.js';

function capture() {
  const lines: Record<string, unknown>[] = [];
  return { lines, stream: { write: (line: string) => void lines.push(JSON.parse(line) as Record<string, unknown>) } };
}

test('secrets are censored wherever a log call puts them, down to connection_info.data', () => {
  const { lines, stream } = capture();
  const logger = createLogger('info', stream);
  const connectionInfo = { driver_volume_type: 'iscsi', data: { auth_username: 'u', auth_password: 'secret-1' } };
  logger.info({ connectionInfo, chap: { username: 'u', password: 'secret-2' }, provider_auth: 'CHAP u secret-3' }, 'connected');
  logger.info({ headers: { 'x-auth-token': 'admin:p', 'x-service-token': 'svc', accept: 'application/json' } }, 'headers');
  logger.info({ grants: [{ providerAuth: 'secret-4' }] }, 'list');
  logger.child({ password: 'secret-5' }).info('child');
  const text = JSON.stringify(lines);
  for (const secret of ['secret-1', 'secret-2', 'secret-3', 'secret-4', 'secret-5', 'admin:p', '"svc"']) assert.ok(!text.includes(secret), secret);
  assert.deepEqual(lines[0]!['connectionInfo'], { driver_volume_type: 'iscsi', data: { auth_username: 'u', auth_password: '***' } });
  assert.equal(lines[0]!['chap'], '***');
  assert.deepEqual(lines[1]!['headers'], { 'x-auth-token': '***', 'x-service-token': '***', accept: 'application/json' });
  assert.equal(lines[3]!['password'], '***');
  // The caller's objects are left as they were.
  assert.equal(connectionInfo.data.auth_password, 'secret-1');
});

test('a line without secrets is logged as given, and is not copied', () => {
  const request = { method: 'POST', url: '/v3/volumes/x/action', status: 202, ms: 0.4 };
  assert.equal(censorSecrets(request), request);
  const { lines, stream } = capture();
  createLogger('info', stream).info(request, 'request');
  assert.deepEqual({ ...lines[0], level: undefined, time: undefined, pid: undefined, hostname: undefined }, {
    ...request,
    msg: 'request',
    level: undefined,
    time: undefined,
    pid: undefined,
    hostname: undefined,
  });
});
