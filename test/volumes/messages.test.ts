// Who reads which user messages and pools: a project its own messages, an administrator
// everybody's; get_pools is for administrators only.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { CinderError } from '../../src/errors.js';
import { forEachDatabase } from '../helpers/databases.js';
import { UNLIMITED_QUOTAS } from '../helpers/env.js';
import { adminCtx, serviceForSuite, userCtx, waitForStatus } from './harness.js';

const refusedBy = (rule: string) => (err: unknown) => {
  assert.ok(err instanceof CinderError, String(err));
  assert.equal(err.status, 403);
  assert.equal(err.message, `Policy doesn't allow ${rule} to be performed.`);
  return true;
};
const notFound = (id: string) => (err: unknown) => {
  assert.ok(err instanceof CinderError, String(err));
  assert.equal(err.status, 404);
  assert.equal(err.message, `Message ${id} could not be found.`);
  return true;
};
const EVERYTHING = { filters: {}, sort: [], allTenants: false };

forEachDatabase('user messages and pools', (db) => {
  const suite = serviceForSuite(db, UNLIMITED_QUOTAS);

  test('a project reads and deletes its own messages only; an administrator reads every project\'s', async () => {
    const { storage } = suite.svc;
    const owner = userCtx();
    const other = userCtx();
    const volume = await storage.createVolume(owner, { size: 100_000_000 });
    await waitForStatus(storage, owner, volume.id, 'error');
    const [message] = await storage.listMessages(owner, EVERYTHING);
    assert.ok(message, 'the owner has a message');
    assert.equal(message.resourceUuid, volume.id);
    assert.equal(message.requestId, owner.requestId);
    assert.equal(message.projectId, owner.projectId);

    assert.deepEqual(await storage.listMessages(other, EVERYTHING), []);
    await assert.rejects(storage.getMessage(other, message.id), notFound(message.id));
    await assert.rejects(storage.deleteMessage(other, message.id), notFound(message.id));
    const admin = adminCtx();
    assert.ok((await storage.listMessages(admin, EVERYTHING)).some((m) => m.id === message.id));
    assert.equal((await storage.getMessage(admin, message.id)).id, message.id);

    // A reader may read but not delete.
    const reader = { ...owner, roles: ['reader'] };
    assert.equal((await storage.getMessage(reader, message.id)).id, message.id);
    await assert.rejects(storage.deleteMessage(reader, message.id), refusedBy('message:delete'));
    await storage.deleteMessage(owner, message.id);
    assert.deepEqual(await storage.listMessages(owner, EVERYTHING), []);
  });

  test('get_pools is refused to anyone but an administrator', async () => {
    const { storage } = suite.svc;
    const rule = 'scheduler_extension:scheduler_stats:get_pools';
    await assert.rejects(storage.getPools(userCtx(), {}), refusedBy(rule));
    // Cinder's admin_api: the admin role counts only in the admin project.
    await assert.rejects(storage.getPools(userCtx(undefined, { roles: ['admin', 'member', 'reader'], isAdminProject: false }), {}), refusedBy(rule));
    const pools = await storage.getPools(adminCtx(), {});
    assert.deepEqual(pools.map((p) => p.name), ['testhost@file#file']);
  });
});
