// Shared pieces of the API tests: a service per test on the suite's dialect, and
// assertions for Cinder's fault bodies and headers.

import assert from 'node:assert/strict';
import type { TestContext } from 'node:test';
import type { Config } from '../../src/config/config.js';
import { createTestDatabase, type DialectName } from '../helpers/databases.js';
import { startService, type Response, type TestService } from '../helpers/service.js';

export { forEachDatabase } from '../helpers/databases.js';

/** A fresh service; on PostgreSQL with a database of its own, dropped after the service stops. */
export async function serviceOn(t: TestContext, dialect: DialectName, overrides: Partial<Config> = {}): Promise<TestService> {
  if (dialect === 'sqlite') return startService(t, overrides);
  const db = await createTestDatabase(dialect);
  try {
    const service = await startService(t, { ...overrides, database: db.url });
    t.after(() => db.cleanup());
    return service;
  } catch (err) {
    await db.cleanup();
    throw err;
  }
}

export const CONNECTOR = {
  initiator: 'iqn.1993-08.org.debian:01:cad181614cec',
  ip: '192.168.1.20',
  platform: 'x86_64',
  host: 'tempest-1',
  os_type: 'linux2',
  multipath: false,
  mountpoint: '/dev/vdb',
};

export const SERVER_ID = '6c6c3e4e-3c1b-4d4c-8a55-0b3f0d2f6a11';

export async function createVolume(s: TestService, volume: Record<string, unknown> = {}, version?: string): Promise<any> {
  const res = await s.request('POST', 'volumes', { body: { volume: { size: 1, ...volume } }, ...(version ? { version } : {}) });
  assert.equal(res.status, 202, res.text);
  return s.waitForVolume(res.body.volume.id, ['available']);
}

export async function action(s: TestService, volumeId: string, body: unknown, version?: string): Promise<Response> {
  return s.request('POST', `volumes/${volumeId}/action`, { body, ...(version ? { version } : {}) });
}

export function assertFault(res: Response, status: number, name: string, message?: string | RegExp): void {
  assert.equal(res.status, status, res.text);
  assert.equal(res.headers.get('content-type'), 'application/json');
  assert.deepEqual(Object.keys(res.body), [name], res.text);
  assert.equal(res.body[name].code, status);
  if (typeof message === 'string') assert.equal(res.body[name].message, message);
  else if (message) assert.match(res.body[name].message, message);
}

export function assertEmpty(res: Response, status: number): void {
  assert.equal(res.status, status, res.text);
  assert.equal(res.text, '');
}

export function assertRequestIds(res: Response): void {
  const id = res.headers.get('x-openstack-request-id');
  assert.match(id ?? '', /^req-[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/);
  assert.equal(res.headers.get('x-compute-request-id'), id);
}

export function assertVersionHeaders(res: Response, version: string): void {
  assert.equal(res.headers.get('openstack-api-version'), `volume ${version}`);
  assert.equal(res.headers.get('vary'), 'OpenStack-API-Version');
}
