import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { TestService } from '../helpers/service.js';
import { UNLIMITED_QUOTAS } from '../helpers/env.js';
import { action, CONNECTOR, createVolume, forEachDatabase, serviceOn } from './support.js';

const SERVICE = { 'X-Service-Token': 'svc' };

async function legacyCycle(s: TestService, id: string, i: number): Promise<void> {
  const connector = { ...CONNECTOR, initiator: `iqn.1993-08.org.debian:01:host${i}`, host: `host-${i}` };
  const server = `00000000-0000-4000-8000-${String(i).padStart(12, '0')}`;
  const steps: unknown[] = [
    { 'os-reserve': null },
    { 'os-initialize_connection': { connector } },
    { 'os-attach': { mountpoint: '/dev/vdb', mode: 'rw', instance_uuid: server } },
    { 'os-begin_detaching': null },
    { 'os-terminate_connection': { connector } },
    { 'os-detach': null },
  ];
  for (const body of steps) {
    const res = await s.request('POST', `volumes/${id}/action`, { body, headers: SERVICE });
    assert.ok(res.status === 200 || res.status === 202, `${JSON.stringify(body)} -> ${res.status} ${res.text}`);
  }
}

async function attachmentCycle(s: TestService, id: string, i: number): Promise<void> {
  const connector = { ...CONNECTOR, initiator: `iqn.1993-08.org.debian:01:node${i}`, host: `node-${i}` };
  const server = `00000000-0000-4000-9000-${String(i).padStart(12, '0')}`;
  const created = await s.request('POST', 'attachments', {
    body: { attachment: { volume_uuid: id, instance_uuid: server, connector } },
    version: '3.54',
  });
  assert.equal(created.status, 200, created.text);
  const aid = created.body.attachment.id;
  assert.equal((await s.request('POST', `attachments/${aid}/action`, { body: { 'os-complete': null }, version: '3.54' })).status, 204);
  const deleted = await s.request('DELETE', `attachments/${aid}`, { version: '3.54', headers: SERVICE });
  assert.equal(deleted.status, 200, deleted.text);
}

forEachDatabase('concurrent callers over HTTP', (db) => {
  test('100 concurrent reserves of one volume: exactly one wins, the others are told its state', async (t) => {
    const s = await serviceOn(t, db().name);
    const v = await createVolume(s);
    const results = await Promise.all(Array.from({ length: 100 }, () => action(s, v.id, { 'os-reserve': null })));
    const won = results.filter((r) => r.status === 202);
    const lost = results.filter((r) => r.status === 400);
    assert.equal(won.length, 1);
    assert.equal(lost.length, 99);
    for (const r of lost) {
      assert.equal(r.body.badRequest.message, 'Invalid volume: Volume status must be available to reserve, but the status is attaching.');
    }
    assert.equal((await s.request('GET', `volumes/${v.id}`)).body.volume.status, 'attaching');
  });

  test('100 concurrent attachment creates by different servers: exactly one reservation', async (t) => {
    const s = await serviceOn(t, db().name);
    const v = await createVolume(s);
    const results = await Promise.all(
      Array.from({ length: 100 }, (_, i) =>
        s.request('POST', 'attachments', {
          body: { attachment: { volume_uuid: v.id, instance_uuid: `00000000-0000-4000-8000-${String(i).padStart(12, '0')}` } },
          version: '3.27',
        }),
      ),
    );
    assert.equal(results.filter((r) => r.status === 200).length, 1);
    assert.equal(results.filter((r) => r.status === 400).length, 99);
    const list = await s.request('GET', `attachments?volume_id=${v.id}`, { version: '3.27' });
    assert.equal(list.body.attachments.length, 1);
  });

  test('many volumes attached and detached at once end with none in a transitional state', async (t) => {
    const s = await serviceOn(t, db().name, UNLIMITED_QUOTAS);
    const volumes = await Promise.all(Array.from({ length: 12 }, () => createVolume(s)));
    await Promise.all(
      volumes.map(async (v, i) => {
        for (let round = 0; round < 2; round++) {
          if (i % 2 === 0) await legacyCycle(s, v.id, i);
          else await attachmentCycle(s, v.id, i);
        }
      }),
    );
    const detail = await s.request('GET', 'volumes/detail');
    assert.equal(detail.body.volumes.length, volumes.length);
    for (const v of detail.body.volumes) {
      assert.equal(v.status, 'available', `${v.id} is ${v.status}`);
      assert.deepEqual(v.attachments, []);
    }
    assert.deepEqual((await s.request('GET', 'attachments', { version: '3.27' })).body.attachments, []);
  });
});
