import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, test } from 'node:test';
import { openDatabase, type DatabaseHandle } from '../../src/db/index.js';
import { FileVolumeDriver } from '../../src/drivers/file/driver.js';
import { generateSecret, parseProviderAuth } from '../../src/manager/chap.js';
import { VolumeManager } from '../../src/manager/manager.js';
import { formatProviderLocation, parseProviderLocation } from '../../src/manager/provider-location.js';
import { createLogger } from '../../src/observability/log.js';
import type { ExportSpec, InitiatorAccess, TargetHelper } from '../../src/targets/target.js';
import { forEachDatabase, volumeRow } from '../helpers/databases.js';
import { tempDir } from '../helpers/env.js';

test('CHAP secrets: Cinder lengths and alphabet, one character of each group at least', () => {
  for (let i = 0; i < 300; i++) {
    const user = generateSecret(20);
    assert.match(user, /^[2-9A-HJ-NP-Za-km-z]{20}$/);
    assert.match(user, /[2-9]/);
    assert.match(user, /[A-HJ-NP-Z]/);
    assert.match(user, /[a-km-z]/);
  }
  assert.equal(new Set(Array.from({ length: 50 }, () => generateSecret(16))).size, 50);
  assert.deepEqual(parseProviderAuth('CHAP user pass'), { username: 'user', password: 'pass' });
  assert.equal(parseProviderAuth('NONE'), null);
});

test('provider_location reads and writes the LVM drivers format', () => {
  const tgt = '10.0.0.5:3260;10.0.1.5:3260,1 iqn.2010-10.org.openstack:volume-x 1';
  assert.deepEqual(parseProviderLocation(tgt), {
    portals: ['10.0.0.5:3260', '10.0.1.5:3260'],
    tid: '1',
    iqn: 'iqn.2010-10.org.openstack:volume-x',
    lun: 1,
  });
  assert.equal(formatProviderLocation(parseProviderLocation(tgt)!), tgt);
  const lio = '[::1]:3260,iqn.2010-10.org.openstack:volume-x iqn.2010-10.org.openstack:volume-x 0';
  assert.deepEqual(parseProviderLocation(lio)!.portals, ['[::1]:3260']);
  assert.equal(parseProviderLocation(lio)!.lun, 0);
  assert.equal(parseProviderLocation(null), null);
});

/** A target that keeps its state in memory and can be told to fail the way a careless tool would. */
class MemoryTarget implements TargetHelper {
  readonly name = 'memory';
  readonly lun = 1;
  readonly supportsReadOnly = true;
  failWith: ((spec: ExportSpec) => Error) | null = null;
  readonly access = new Map<string, Map<string, boolean>>();
  constructor(private readonly portalList: string[]) {}
  async start() {}
  async stop() {}
  portals() {
    return this.portalList;
  }
  async createExport(spec: ExportSpec) {
    if (this.failWith) throw this.failWith(spec);
    if (!this.access.has(spec.iqn)) this.access.set(spec.iqn, new Map());
    return '7';
  }
  async ensureExport(spec: ExportSpec, access: InitiatorAccess[]) {
    this.access.set(spec.iqn, new Map(access.map((a) => [a.initiator, a.readOnly])));
    return '7';
  }
  async removeExport(_v: string, iqn: string) {
    this.access.delete(iqn);
  }
  async allowInitiator(iqn: string, a: InitiatorAccess) {
    this.access.get(iqn)?.set(a.initiator, a.readOnly);
  }
  async removeInitiator(iqn: string, initiator: string) {
    this.access.get(iqn)?.delete(initiator);
  }
  async resized() {}
}

forEachDatabase('volume manager', (db) => {
  let handle: DatabaseHandle;
  before(async () => {
    handle = await openDatabase(db().url);
  });
  after(async () => {
    await handle.close();
  });

  async function volume(): Promise<string> {
    const id = randomUUID();
    const type = await handle.db.selectFrom('volume_types').select('id').executeTakeFirstOrThrow();
    await handle.db
      .insertInto('volumes')
      .values(volumeRow(type.id, { id }))
      .execute();
    return id;
  }

  async function manager(t: Parameters<typeof tempDir>[0], target: MemoryTarget) {
    const driver = new FileVolumeDriver({ dataDir: await tempDir(t), maxOverSubscriptionRatio: 20, reservedPercentage: 0 });
    await driver.start();
    return new VolumeManager(handle.db, driver, target, { targetPrefix: 'iqn.2010-10.org.openstack:', volumeHost: 'testhost@file#file' }, createLogger('silent'));
  }

  test('several portals, or a multipath connector, get the parallel target_* lists', async (t) => {
    const target = new MemoryTarget(['127.0.0.1:3260', '127.0.0.2:3260']);
    const mgr = await manager(t, target);
    const id = await volume();
    const info = await mgr.initializeConnection(id, { initiator: 'iqn.a', host: 'a' }, { attachmentId: '', accessMode: 'rw' });
    const iqn = `iqn.2010-10.org.openstack:volume-${id}`;
    assert.deepEqual(info.data['target_portals'], ['127.0.0.1:3260', '127.0.0.2:3260']);
    assert.deepEqual(info.data['target_iqns'], [iqn, iqn]);
    assert.deepEqual(info.data['target_luns'], [1, 1]);
    assert.equal(info.data['target_portal'], '127.0.0.1:3260');
    const row = await handle.db.selectFrom('volumes').select('provider_location').where('id', '=', id).executeTakeFirstOrThrow();
    assert.equal(row.provider_location, `127.0.0.1:3260;127.0.0.2:3260,7 ${iqn} 1`);

    const single = await manager(t, new MemoryTarget(['127.0.0.1:3260']));
    const other = await volume();
    const plain = await single.initializeConnection(other, { initiator: 'iqn.a', host: 'a' }, { attachmentId: '', accessMode: 'rw' });
    assert.equal(plain.data['target_portals'], undefined);
    const multi = await single.initializeConnection(other, { initiator: 'iqn.a', host: 'a', multipath: true }, { attachmentId: '', accessMode: 'rw' });
    assert.deepEqual(multi.data['target_portals'], ['127.0.0.1:3260']);
  });

  test('the CHAP password is cut out of a failing helper error; the account was stored first', async (t) => {
    const target = new MemoryTarget(['127.0.0.1:3260']);
    target.failWith = (spec) => new Error(`tgt-admin failed on "incominguser ${spec.chap.username} ${spec.chap.password}"`);
    const mgr = await manager(t, target);
    const id = await volume();
    const row = () => handle.db.selectFrom('volumes').select('provider_auth').where('id', '=', id).executeTakeFirstOrThrow();
    const failure = await mgr.initializeConnection(id, { initiator: 'iqn.a' }, { attachmentId: '', accessMode: 'rw' }).then(
      () => assert.fail('the export should have failed'),
      (err: Error) => err,
    );
    const stored = parseProviderAuth((await row()).provider_auth);
    assert.ok(stored, 'CHAP account persisted before the export was attempted');
    assert.equal(failure.message, `tgt-admin failed on "incominguser ${stored.username} ***"`);
    assert.ok(!failure.message.includes(stored.password));
    target.failWith = null;
    const info = await mgr.initializeConnection(id, { initiator: 'iqn.a' }, { attachmentId: '', accessMode: 'rw' });
    assert.equal(info.data['auth_password'], stored.password, 'the stored account is reused');
  });

  test('a new CHAP account or location is synced to disk before connection_info leaves; a repeat is not', async (t) => {
    const driver = new FileVolumeDriver({ dataDir: await tempDir(t), maxOverSubscriptionRatio: 20, reservedPercentage: 0 });
    await driver.start();
    const id = await volume();
    const syncs: Array<{ provider_auth: string | null; provider_location: string | null }> = [];
    const syncCommitted = async () => {
      syncs.push(await handle.db.selectFrom('volumes').select(['provider_auth', 'provider_location']).where('id', '=', id).executeTakeFirstOrThrow());
    };
    const options = { targetPrefix: 'iqn.2010-10.org.openstack:', volumeHost: 'testhost@file#file', syncCommitted };
    const mgr = new VolumeManager(handle.db, driver, new MemoryTarget(['127.0.0.1:3260']), options, createLogger('silent'));
    const info = await mgr.initializeConnection(id, { initiator: 'iqn.a', host: 'a' }, { attachmentId: '', accessMode: 'rw' });
    assert.equal(syncs.length, 1);
    assert.equal(parseProviderAuth(syncs[0]!.provider_auth)?.password, info.data['auth_password'], 'the account was written before the sync');
    assert.ok(syncs[0]!.provider_location, 'the location was written before the sync');
    await mgr.initializeConnection(id, { initiator: 'iqn.b', host: 'b' }, { attachmentId: '', accessMode: 'rw' });
    assert.equal(syncs.length, 1, 'the same account and location again need no sync');
  });

  test('legacy terminate keeps an initiator another attachment of the volume still uses', async (t) => {
    const target = new MemoryTarget(['127.0.0.1:3260']);
    const mgr = await manager(t, target);
    const id = await volume();
    const iqn = `iqn.2010-10.org.openstack:volume-${id}`;
    const host = { initiator: 'iqn.shared', host: 'shared' };
    await mgr.initializeConnection(id, host, { attachmentId: 'a1', accessMode: 'rw' });
    await mgr.initializeConnection(id, host, { attachmentId: 'a2', accessMode: 'rw' });
    await mgr.terminateConnection(id, host);
    assert.equal(target.access.get(iqn)!.has('iqn.shared'), true);
    await mgr.releaseAttachment(id, 'a1');
    assert.equal(target.access.get(iqn)!.has('iqn.shared'), true);
    await mgr.terminateConnection(id, host);
    assert.equal(target.access.get(iqn)!.has('iqn.shared'), false);
    await mgr.releaseAttachment(id, 'a2');
    assert.equal(target.access.has(iqn), false, 'no connection left: the export is gone');
  });
});
