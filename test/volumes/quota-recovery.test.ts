// Usage after a crash: a volume service that stops in the middle of an extend or a delete
// has committed the state move and its usage together, and on start-up it finishes (a
// delete) or gives back (an extend) exactly what that move took.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { openDatabase } from '../../src/db/index.js';
import { forEachDatabase } from '../helpers/databases.js';
import { adminCtx, availableVolume, startService, waitForGone, waitForStatus } from './harness.js';

forEachDatabase('quota usage across a restart', (db) => {
  test('an interrupted extend gives its gigabytes back; an interrupted delete gives the volume back', async (t) => {
    const svc = await startService(db().url, (fn) => t.after(fn));
    const raw = await openDatabase(db().url);
    t.after(() => raw.close());
    const ctx = adminCtx();
    const usage = async () => {
      const rows = await raw.db.selectFrom('quota_usages').select(['resource', 'in_use']).where('project_id', '=', ctx.projectId).execute();
      return Object.fromEntries(rows.map((r) => [r.resource, Number(r.in_use)]));
    };
    const extending = await availableVolume(svc.storage, ctx, { size: 2 });
    const deleting = await availableVolume(svc.storage, ctx, { size: 3 });
    assert.deepEqual(await usage(), { volumes: 2, gigabytes: 5, volumes___DEFAULT__: 2, gigabytes___DEFAULT__: 5 });

    // What an extend to 6 GiB and a delete commit before their backend work, then the process is gone.
    await raw.db.updateTable('volumes').set({ status: 'extending', extending_to: 6 }).where('id', '=', extending.id).execute();
    for (const resource of ['gigabytes', 'gigabytes___DEFAULT__']) {
      await raw.db.updateTable('quota_usages').set({ in_use: 9 }).where('project_id', '=', ctx.projectId).where('resource', '=', resource).execute();
    }
    await raw.db.updateTable('volumes').set({ status: 'deleting' }).where('id', '=', deleting.id).execute();
    await svc.restart();

    const failed = await waitForStatus(svc.storage, ctx, extending.id, 'error_extending');
    assert.equal(failed.size, 2);
    await waitForGone(svc.storage, ctx, deleting.id);
    assert.deepEqual(await usage(), { volumes: 1, gigabytes: 2, volumes___DEFAULT__: 1, gigabytes___DEFAULT__: 2 });
    const row = await raw.db.selectFrom('volumes').select('extending_to').where('id', '=', extending.id).executeTakeFirstOrThrow();
    assert.equal(row.extending_to, null);
  });
});
