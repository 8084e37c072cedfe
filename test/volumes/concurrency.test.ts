import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { test } from 'node:test';
import { CinderError } from '../../src/errors.js';
import { forEachDatabase } from '../helpers/databases.js';
import { UNLIMITED_QUOTAS } from '../helpers/env.js';
import { SERVER_A, availableVolume, connector, serviceForSuite, userCtx } from './harness.js';

const RACERS = 120;

forEachDatabase('concurrency', (db) => {
  const suite = serviceForSuite(db, UNLIMITED_QUOTAS);

  test(`${RACERS} concurrent os-reserve of one volume: exactly one wins, the rest are told it is attaching`, async () => {
    const ctx = userCtx();
    const v = await availableVolume(suite.svc.storage, ctx);
    const results = await Promise.allSettled(Array.from({ length: RACERS }, () => suite.svc.storage.reserve(ctx, v.id)));
    const won = results.filter((r) => r.status === 'fulfilled');
    assert.equal(won.length, 1);
    for (const r of results) {
      if (r.status === 'rejected') {
        assert.ok(r.reason instanceof CinderError);
        assert.equal(r.reason.message, 'Invalid volume: Volume status must be available to reserve, but the status is attaching.');
      }
    }
    assert.equal((await suite.svc.storage.getVolume(ctx, v.id)).status, 'attaching');
  });

  test(`${RACERS} concurrent attachment creates for different servers: one attachment exists afterwards`, async () => {
    const ctx = userCtx();
    const v = await availableVolume(suite.svc.storage, ctx);
    const results = await Promise.allSettled(
      Array.from({ length: RACERS }, () => suite.svc.storage.createAttachment(ctx, { volumeId: v.id, instanceUuid: randomUUID() })),
    );
    assert.equal(results.filter((r) => r.status === 'fulfilled').length, 1);
    for (const r of results) {
      if (r.status === 'rejected') assert.match((r.reason as Error).message, /to reserve, but the current status is reserved\.$/);
    }
    const rows = await suite.raw.db.selectFrom('volume_attachment').select('id').where('volume_id', '=', v.id).where('deleted', '=', 0).execute();
    assert.equal(rows.length, 1);
    assert.equal((await suite.svc.storage.getVolume(ctx, v.id)).status, 'reserved');
  });

  test('many volumes attached and detached at once, through both doors: none is left in between', async () => {
    const ctx = userCtx();
    const service = { ...ctx, isService: true };
    const volumes = await Promise.all(Array.from({ length: 24 }, () => availableVolume(suite.svc.storage, ctx)));
    const cycle = async (id: string, i: number) => {
      const host = connector(`host${i}`);
      for (let round = 0; round < 3; round++) {
        if (i % 2 === 0) {
          await suite.svc.storage.reserve(ctx, id);
          await suite.svc.storage.initializeConnection(ctx, id, host);
          await suite.svc.storage.attach(ctx, id, { instanceUuid: SERVER_A, mountpoint: '/dev/vdb', mode: 'rw' });
          await suite.svc.storage.beginDetaching(ctx, id);
          await suite.svc.storage.terminateConnection(ctx, id, host, false);
          await suite.svc.storage.detach(ctx, id, null);
        } else {
          const a = await suite.svc.storage.createAttachment(ctx, { volumeId: id, instanceUuid: SERVER_A, connector: host });
          await suite.svc.storage.completeAttachment(ctx, a.id);
          await suite.svc.storage.deleteAttachment(service, a.id);
        }
      }
    };
    await Promise.all(volumes.map((v, i) => cycle(v.id, i)));
    const ids = volumes.map((v) => v.id);
    const rows = await suite.raw.db.selectFrom('volumes').select(['status', 'attach_status']).where('id', 'in', ids).execute();
    assert.deepEqual(
      rows.map((r) => `${r.status}/${r.attach_status}`),
      ids.map(() => 'available/detached'),
    );
    const live = await suite.raw.db.selectFrom('volume_attachment').select('id').where('volume_id', 'in', ids).where('deleted', '=', 0).execute();
    assert.equal(live.length, 0);
    const grants = await suite.raw.db.selectFrom('volume_connections').select('volume_id').where('volume_id', 'in', ids).execute();
    assert.equal(grants.length, 0);
    for (const id of ids) assert.equal(suite.svc.target.exports.has(`iqn.2010-10.org.openstack:volume-${id}`), false);
  });
});
