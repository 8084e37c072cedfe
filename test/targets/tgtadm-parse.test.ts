import { test } from 'node:test';
import assert from 'node:assert/strict';
import { chmod, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { parsePortals, parseTargets } from '../../src/targets/tgtadm/show.js';
import { controlPortFor, MAX_CONTROL_PORT } from '../../src/targets/tgtadm/daemon.js';
import { classifyFailure, redactArgs, Tgtadm, TgtadmError } from '../../src/targets/tgtadm/tgtadm.js';
import { lunParams } from '../../src/targets/tgtadm/helper.js';
import { tempDir } from '../helpers/env.js';

// Captured from tgtd 1.0.85 with two sessions, one LUN, an incoming and an outgoing account.
const SHOW = `Target 1: iqn.2010-10.org.openstack:volume-abc
    System information:
        Driver: iscsi
        State: ready
    I_T nexus information:
        I_T nexus: 4
            Initiator: iqn.2008-11.org.linux-kvm alias: none
            Connection: 0
                IP Address: 127.0.0.1
        I_T nexus: 5
            Initiator: iqn.2007-10.com.github:sahlberg:libiscsi:iscsi-inq alias: none
            Connection: 0
                IP Address: 127.0.0.1
    LUN information:
        LUN: 0
            Type: controller
            SCSI ID: IET     00010000
            SCSI SN: beaf10
            Size: 0 MB, Block size: 1
            Backing store type: null
            Backing store path: None
            Backing store flags: 
        LUN: 1
            Type: disk
            SCSI ID: IET     00010001
            SCSI SN: beaf11
            Size: 67 MB, Block size: 512
            Thin-provisioning: Yes
            Backing store type: rdwr
            Backing store path: /tmp/tgtexp/vol.img
            Backing store flags: 
    Account information:
        u1
        out1 (outgoing)
    ACL information:
        iqn.2007-10.com.github:sahlberg:libiscsi:iscsi-inq
        iqn.2008-11.org.linux-kvm
Target 2: iqn.2010-10.org.openstack:volume-def
    System information:
        Driver: iscsi
        State: ready
    I_T nexus information:
    LUN information:
        LUN: 0
            Type: controller
            Backing store path: None
    Account information:
    ACL information:
`;

test('parseTargets reads sessions, LUNs, incoming accounts and the ACL of every target', () => {
  const [one, two, ...rest] = parseTargets(SHOW);
  assert.equal(rest.length, 0);
  assert.deepEqual(one, {
    tid: 1,
    iqn: 'iqn.2010-10.org.openstack:volume-abc',
    nexuses: [
      { sid: 4, initiator: 'iqn.2008-11.org.linux-kvm', cids: [0] },
      { sid: 5, initiator: 'iqn.2007-10.com.github:sahlberg:libiscsi:iscsi-inq', cids: [0] },
    ],
    luns: [
      { lun: 0, type: 'controller', backingPath: null },
      { lun: 1, type: 'disk', backingPath: '/tmp/tgtexp/vol.img' },
    ],
    accounts: ['u1'],
    acl: ['iqn.2007-10.com.github:sahlberg:libiscsi:iscsi-inq', 'iqn.2008-11.org.linux-kvm'],
  });
  assert.deepEqual(two, {
    tid: 2,
    iqn: 'iqn.2010-10.org.openstack:volume-def',
    nexuses: [],
    luns: [{ lun: 0, type: 'controller', backingPath: null }],
    accounts: [],
    acl: [],
  });
  assert.deepEqual(parseTargets(''), []);
});

test('parsePortals strips the portal group tag', () => {
  assert.deepEqual(parsePortals('Portal: 127.0.0.1:13260,1\n'), ['127.0.0.1:13260']);
  assert.deepEqual(parsePortals('Portal: [::]:3260,1\nPortal: 0.0.0.0:3260,1\n'), ['[::]:3260', '0.0.0.0:3260']);
});

test('control ports are stable per portal, within tgtd range, never the default 0', () => {
  const seen = new Set<number>();
  for (let port = 3260; port < 3260 + 2000; port++) {
    const n = controlPortFor(`127.0.0.1:${port}`);
    assert.ok(n >= 1 && n <= MAX_CONTROL_PORT, `${n} out of range`);
    assert.equal(controlPortFor(`127.0.0.1:${port}`), n);
    seen.add(n);
  }
  // Neighbouring ports must not pile onto a few sockets.
  assert.ok(seen.size > 1900, `only ${seen.size} distinct control ports for 2000 portals`);
  assert.notEqual(controlPortFor('127.0.0.1:3260'), controlPortFor('127.0.0.2:3260'));
});

test('tgtadm failures are told apart by their text', () => {
  assert.equal(classifyFailure("tgtadm: can't find the target\n"), 'target-not-found');
  assert.equal(classifyFailure('tgtadm: this logical unit is still active'), 'lun-busy');
  assert.equal(classifyFailure("tgtadm: can't connect to tgt daemon, Connection refused"), 'unreachable');
  // What tgtadm 1.0.85 really prints when no tgtd owns the control socket.
  assert.equal(
    classifyFailure('tgtadm: failed to send request hdr to tgt daemon, Transport endpoint is not connected'),
    'unreachable',
  );
  assert.equal(classifyFailure('something new'), 'other');
});

test('CHAP passwords never appear in a failed command', async (t) => {
  const dir = await tempDir(t);
  // A stand-in tgtadm that fails and, worse than the real one, echoes its arguments.
  const fake = join(dir, 'tgtadm');
  await writeFile(fake, '#!/bin/sh\necho "tgtadm: this account already exists: $*" >&2\nexit 22\n');
  await chmod(fake, 0o755);
  const secret = 'Sup3r-secret-pass';
  assert.deepEqual(redactArgs(['--user', 'u', '--password', secret]), ['--user', 'u', '--password', '***']);
  const tgtadm = new Tgtadm({ binary: fake, controlPort: 99 });
  const err = await tgtadm
    .run(['--lld', 'iscsi', '--mode', 'account', '--op', 'new', '--user', 'u', '--password', secret])
    .then(() => assert.fail('the fake tgtadm must fail'), (e: unknown) => e);
  assert.ok(err instanceof TgtadmError);
  assert.equal(err.failure, 'account-exists');
  assert.match(err.message, /-C 99 .*--password \*\*\*/);
  assert.ok(!err.message.includes(secret), err.message);
  assert.ok(!JSON.stringify({ ...err, stack: err.stack }).includes(secret));
  assert.equal(await tgtadm.runTolerating(['--mode', 'account', '--op', 'new', '--password', secret], 'account-exists'), false);
});

test('a tgtadm that hangs is killed at its timeout', async (t) => {
  const dir = await tempDir(t);
  const fake = join(dir, 'tgtadm');
  await writeFile(fake, '#!/bin/sh\nexec sleep 30\n');
  await chmod(fake, 0o755);
  const started = Date.now();
  await assert.rejects(new Tgtadm({ binary: fake, controlPort: 1, timeoutMs: 200 }).run(['--mode', 'system', '--op', 'show']), {
    name: 'TgtadmError',
    failure: 'timeout',
  });
  assert.ok(Date.now() - started < 5_000);
});

test('LUN parameters give the volume a stable SCSI identity and cannot be injected into', () => {
  assert.equal(
    lunParams('0b1c2d3e-4f50-6172-8394-a5b6c7d8e9f0'),
    'thin_provisioning=1,scsi_id=0b1c2d3e-4f50-6172-8394-a5b6c7d8e9f0,scsi_sn=0b1c2d3e4f5061728394a5b6c7d8e9f0',
  );
  assert.equal(lunParams('x,readonly=1'), 'thin_provisioning=1,scsi_id=xreadonly1,scsi_sn=xreadonly1');
  assert.equal(lunParams(',,,'), 'thin_provisioning=1');
});
