import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { open } from 'node:fs/promises';
import { join } from 'node:path';
import { pino } from 'pino';
import '../../src/targets/all.js';
import { createTargetHelper, targetHelperNames } from '../../src/targets/registry.js';
import type { ExportSpec, TargetHelper } from '../../src/targets/target.js';
import { LoginStatus } from '../../src/iscsi/pdu/constants.js';
import { deviceIdFor } from '../../src/targets/builtin/index.js';
import { freePort, tempDir } from '../helpers/env.js';
import { RawInitiator, TEST_UNIT_READY, write10 } from '../iscsi/raw-initiator.js';

const VOLUME = '6f1c2a4e-9d3b-4c1a-8e2f-0a1b2c3d4e5f';
const IQN = `iqn.2010-10.org.openstack:volume-${VOLUME}`;
const HOST = 'iqn.1994-05.com.redhat:compute-1';
const CHAP = { username: 'Zk3pQ8', password: 'b7Hq2LmX9sTe4Rw1' };

async function sparseFile(dir: string, bytes: number): Promise<string> {
  const path = join(dir, `volume-${VOLUME}`);
  const fh = await open(path, 'w');
  await fh.truncate(bytes);
  await fh.close();
  return path;
}

async function startHelper(t: TestContext): Promise<{ helper: TargetHelper; port: number; dir: string; clients: RawInitiator[] }> {
  const dir = await tempDir(t);
  const port = await freePort();
  const helper = createTargetHelper('builtin', {
    dataDir: dir,
    iscsiListen: `127.0.0.1:${port}`,
    extraPortals: ['192.0.2.10:3260'],
    logger: pino({ level: 'silent' }),
  });
  await helper.start();
  const clients: RawInitiator[] = [];
  t.after(async () => {
    for (const c of clients) c.close();
    await helper.stop();
  });
  return { helper, port, dir, clients };
}

async function connect(port: number, clients: RawInitiator[], initiator = HOST): Promise<{ c: RawInitiator; status: number }> {
  const c = await RawInitiator.connect(port);
  clients.push(c);
  const { status } = await c.login({ initiatorName: initiator, targetName: IQN, chap: CHAP });
  return { c, status };
}

async function capacityBytes(c: RawInitiator): Promise<number> {
  const cdb = Buffer.alloc(16);
  cdb[0] = 0x9e;
  cdb[1] = 0x10;
  cdb.writeUInt32BE(32, 10);
  const res = await c.scsi(cdb, { read: 32 });
  assert.equal(res.status, 0, `READ CAPACITY(16) status ${res.status}`);
  return (Number(res.data.readBigUInt64BE(0)) + 1) * res.data.readUInt32BE(8);
}

/** First command of a fresh nexus may carry a unit attention; this clears it. */
async function settle(c: RawInitiator): Promise<void> {
  for (let i = 0; i < 3; i++) if ((await c.scsi(TEST_UNIT_READY)).status === 0) return;
  assert.fail('unit never became ready');
}

test('builtin is registered and announces its listener first, then the extra portals', async (t) => {
  assert.ok(targetHelperNames().includes('builtin'));
  const { helper, port } = await startHelper(t);
  assert.equal(helper.lun, 0);
  assert.equal(helper.supportsReadOnly, true);
  assert.deepEqual(helper.portals(), [`127.0.0.1:${port}`, '192.0.2.10:3260']);
});

test('export lifecycle: create (idempotent), allow, resize with a unit attention, remove initiator, remove export', async (t) => {
  const { helper, port, dir, clients } = await startHelper(t);
  const spec: ExportSpec = { volumeId: VOLUME, iqn: IQN, backingPath: await sparseFile(dir, 8 << 20), chap: CHAP };
  const id = await helper.createExport(spec);
  assert.equal(await helper.createExport(spec), id, 'a retry gives the same answer');

  assert.equal((await connect(port, clients)).status, LoginStatus.AuthorizationFailure, 'not on the access list yet');
  await helper.allowInitiator(IQN, { initiator: HOST, readOnly: false });
  await helper.allowInitiator(IQN, { initiator: HOST, readOnly: false });
  const { c, status } = await connect(port, clients);
  assert.equal(status, 0);
  await settle(c);
  assert.equal(await capacityBytes(c), 8 << 20);

  const fh = await open(spec.backingPath, 'r+');
  await fh.truncate(16 << 20);
  await fh.close();
  await helper.resized(IQN);
  const ua = await c.scsi(TEST_UNIT_READY);
  assert.equal(ua.status, 0x02);
  assert.equal(ua.sense[2]! & 0x0f, 0x06, 'UNIT ATTENTION');
  assert.deepEqual([ua.sense[12], ua.sense[13]], [0x2a, 0x09], 'CAPACITY DATA HAS CHANGED');
  assert.equal(await capacityBytes(c), 16 << 20);

  await helper.removeInitiator(IQN, HOST);
  await c.closedByTarget(1000);
  await helper.removeInitiator(IQN, HOST);
  assert.equal((await connect(port, clients)).status, LoginStatus.AuthorizationFailure);

  await helper.removeExport(VOLUME, IQN);
  await helper.removeExport(VOLUME, IQN);
  assert.equal((await connect(port, clients)).status, LoginStatus.TargetNotFound);
});

test('removeExport ends live sessions; a read-only attachment gets DATA PROTECT', async (t) => {
  const { helper, port, dir, clients } = await startHelper(t);
  const spec: ExportSpec = { volumeId: VOLUME, iqn: IQN, backingPath: await sparseFile(dir, 4 << 20), chap: CHAP };
  await helper.createExport(spec);
  await helper.allowInitiator(IQN, { initiator: HOST, readOnly: true });
  const { c } = await connect(port, clients);
  await settle(c);
  const res = await c.scsi(write10(0, 1), { write: Buffer.alloc(512, 1) });
  assert.equal(res.status, 0x02);
  assert.equal(res.sense[2]! & 0x0f, 0x07, 'DATA PROTECT');
  await helper.removeExport(VOLUME, IQN);
  await c.closedByTarget(1000);
});

test('ensureExport rebuilds the access list exactly as given', async (t) => {
  const { helper, port, dir, clients } = await startHelper(t);
  const spec: ExportSpec = { volumeId: VOLUME, iqn: IQN, backingPath: await sparseFile(dir, 4 << 20), chap: CHAP };
  await helper.createExport(spec);
  await helper.allowInitiator(IQN, { initiator: 'iqn.1994-05.com.redhat:old-host', readOnly: false });
  await helper.ensureExport(spec, [{ initiator: HOST, readOnly: false }]);
  assert.equal((await connect(port, clients)).status, 0);
  assert.equal((await connect(port, clients, 'iqn.1994-05.com.redhat:old-host')).status, LoginStatus.AuthorizationFailure);
});

test('device ids are the volume UUID digits, or a stable hash for other ids', () => {
  assert.equal(deviceIdFor(VOLUME), VOLUME.replace(/-/g, ''));
  assert.match(deviceIdFor('not-a-uuid'), /^[0-9a-f]{32}$/);
  assert.equal(deviceIdFor('not-a-uuid'), deviceIdFor('not-a-uuid'));
});
