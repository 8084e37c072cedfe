#!/usr/bin/env node
// Our iSCSI target alone, for bench/datapath.sh: one target, one file at LUN 0 (as the
// builtin helper exports volumes), CHAP, on a loopback port the kernel picks. It runs the
// compiled dist/ so that what is measured is what `cinderblock serve` runs.
//
// Usage: node bench/datapath-target.mjs --file PATH --chap-user U --chap-secret S
//          [--allow INITIATOR_IQN[,...]] [--port N] [--block-size 512|4096]
// Prints "READY iscsi://U%S@127.0.0.1:PORT/IQN/0" on stdout once it accepts logins, and
// exits cleanly on SIGTERM or SIGINT (which is what lets node --cpu-prof write its profile).

import { randomUUID } from 'node:crypto';
import { inspect, parseArgs } from 'node:util';

import { IscsiServer } from '../dist/src/iscsi/server.js';
import { openFileLogicalUnit } from '../dist/src/iscsi/scsi/file-lu.js';

const LUN = 0;
// The names QEMU and libiscsi's tools log in with unless told otherwise; the bench passes
// its own name to the libiscsi tools with -i.
const DEFAULT_INITIATORS = 'iqn.2008-11.org.linux-kvm,iqn.2010-11.libiscsi:iscsi-perf';
const STOP_GRACE_MS = 5000;

const { values } = parseArgs({
  options: {
    file: { type: 'string' },
    'chap-user': { type: 'string' },
    'chap-secret': { type: 'string' },
    allow: { type: 'string', default: DEFAULT_INITIATORS },
    port: { type: 'string', default: '0' },
    'block-size': { type: 'string', default: '512' },
  },
  strict: true,
});
if (!values.file || !values['chap-user'] || !values['chap-secret']) {
  console.error('usage: node bench/datapath-target.mjs --file PATH --chap-user U --chap-secret S [--allow IQN,...] [--port N]');
  process.exit(2);
}

const uuid = randomUUID();
const iqn = `iqn.2010-10.org.openstack:volume-${uuid}`;
const deviceId = uuid.replace(/-/g, '');
const lu = await openFileLogicalUnit({
  path: values.file,
  serial: deviceId,
  deviceId,
  thinProvisioning: true,
  blockSize: Number(values['block-size']),
});
// Warnings only: per-connection info lines would cost time inside the measurement.
const logger = {
  info() {},
  debug() {},
  warn: (obj, msg) => console.error(`${msg} ${inspect(obj, { breakLength: Infinity })}`),
};
const server = new IscsiServer({ logger });
const address = await server.listen(`127.0.0.1:${Number(values.port)}`);
server.addTarget({
  iqn,
  luns: new Map([[LUN, lu]]),
  chap: { username: values['chap-user'], password: values['chap-secret'] },
});
for (const initiator of values.allow.split(',').filter(Boolean)) server.allowInitiator(iqn, initiator);

let stopping = false;
async function stop() {
  if (stopping) return;
  stopping = true;
  // A wedged close must not keep the bench waiting; it kills us after its own grace anyway.
  setTimeout(() => process.exit(1), STOP_GRACE_MS).unref();
  await server.close();
  await lu.close();
  process.exit(0);
}
process.on('SIGTERM', stop);
process.on('SIGINT', stop);

const user = encodeURIComponent(values['chap-user']);
const secret = encodeURIComponent(values['chap-secret']);
console.log(`READY iscsi://${user}%${secret}@127.0.0.1:${address.port}/${iqn}/${LUN}`);
