import { test } from 'node:test';
import assert from 'node:assert/strict';
import { requireTool } from '../helpers/env.js';
import { IQN, LIBISCSI_INITIATOR, run, startTarget } from '../iscsi/interop-fixture.js';

const CHAP = { username: 'chapuser', password: 'chap-secret-123' };
const MUTUAL = { username: 'tgtuser', password: 'target-secret-45' };

test('iscsi-ls discovers the target (no CHAP) and lists only what the initiator may reach', async (t) => {
  const tool = requireTool(t, 'iscsi-ls');
  if (!tool) return;
  const fx = await startTarget(t);
  const ok = await run(tool, ['-i', LIBISCSI_INITIATOR, `iscsi://127.0.0.1:${fx.port}`]);
  assert.equal(ok.code, 0, ok.stderr);
  assert.match(ok.stdout, new RegExp(`Target:${IQN.replace(/\./g, '\\.')} Portal:127\\.0\\.0\\.1:${fx.port},1`));
  const stranger = await run(tool, ['-i', 'iqn.2001-01.org.example:stranger', `iscsi://127.0.0.1:${fx.port}`]);
  assert.equal(stranger.code, 0, stranger.stderr);
  assert.doesNotMatch(stranger.stdout, /Target:/);
});

test('iscsi-ls with discovery CHAP: refused without credentials, listed with them', async (t) => {
  const tool = requireTool(t, 'iscsi-ls');
  if (!tool) return;
  const fx = await startTarget(t, { server: { discoveryChap: CHAP } });
  const refused = await run(tool, ['-i', LIBISCSI_INITIATOR, `iscsi://127.0.0.1:${fx.port}`]);
  assert.notEqual(refused.code, 0);
  const listed = await run(tool, ['-i', LIBISCSI_INITIATOR, `iscsi://${CHAP.username}%${CHAP.password}@127.0.0.1:${fx.port}`]);
  assert.equal(listed.code, 0, listed.stderr);
  assert.match(listed.stdout, /Target:iqn\.2010-10\.org\.openstack:volume-/);
});

test('iscsi-ls with mutual CHAP on the discovery session', async (t) => {
  const tool = requireTool(t, 'iscsi-ls');
  if (!tool) return;
  const fx = await startTarget(t, { server: { discoveryChap: CHAP, discoveryMutualChap: MUTUAL } });
  const base = `iscsi://${CHAP.username}%${CHAP.password}@127.0.0.1:${fx.port}`;
  const good = await run(tool, ['-i', LIBISCSI_INITIATOR, `${base}?target_user=${MUTUAL.username}&target_password=${MUTUAL.password}`]);
  assert.equal(good.code, 0, good.stdout + good.stderr);
  assert.match(good.stdout, /Target:iqn\.2010-10\.org\.openstack:volume-/);
  const bad = await run(tool, ['-i', LIBISCSI_INITIATOR, `${base}?target_user=${MUTUAL.username}&target_password=not-the-one-1`]);
  assert.notEqual(bad.code, 0);
});

test('iscsi-inq: standard INQUIRY and VPD 0x83 (page code given in decimal)', async (t) => {
  const tool = requireTool(t, 'iscsi-inq');
  if (!tool) return;
  const fx = await startTarget(t);
  const std = await run(tool, ['-i', LIBISCSI_INITIATOR, fx.url()]);
  assert.equal(std.code, 0, std.stderr);
  assert.match(std.stdout, /Peripheral Device Type:DIRECT_ACCESS/);
  const vpd = await run(tool, ['-i', LIBISCSI_INITIATOR, '-e', '1', '-c', '131', fx.url()]);
  assert.equal(vpd.code, 0, vpd.stderr);
  assert.match(vpd.stdout, /DEVICE_IDENTIFICATION/);
  assert.match(vpd.stdout, /0f1e2d3c4b5a6978/i);
});

test('iscsi-readcapacity16 reports the file size', async (t) => {
  const tool = requireTool(t, 'iscsi-readcapacity16');
  if (!tool) return;
  const fx = await startTarget(t, { sizeBytes: 48 << 20 });
  const res = await run(tool, ['-i', LIBISCSI_INITIATOR, '-s', fx.url()]);
  assert.equal(res.code, 0, res.stderr);
  assert.equal(res.stdout.trim(), String(48 << 20));
});

test('CHAP: the right secret logs in, a wrong one and none are refused', async (t) => {
  const tool = requireTool(t, 'iscsi-inq');
  if (!tool) return;
  const fx = await startTarget(t, { target: { chap: CHAP } });
  const good = await run(tool, ['-i', LIBISCSI_INITIATOR, fx.url(CHAP)]);
  assert.equal(good.code, 0, good.stderr);
  const wrong = await run(tool, ['-i', LIBISCSI_INITIATOR, fx.url({ ...CHAP, password: 'not-the-secret' })]);
  assert.notEqual(wrong.code, 0);
  assert.match(wrong.stdout + wrong.stderr, /Authentication failure/);
  const none = await run(tool, ['-i', LIBISCSI_INITIATOR, fx.url()]);
  assert.notEqual(none.code, 0);
});

test('mutual CHAP with target_user/target_password; a wrong target secret is caught by the initiator', async (t) => {
  const tool = requireTool(t, 'iscsi-inq');
  if (!tool) return;
  const fx = await startTarget(t, { target: { chap: CHAP, mutualChap: MUTUAL } });
  const good = await run(tool, ['-i', LIBISCSI_INITIATOR, fx.url(CHAP, `target_user=${MUTUAL.username}&target_password=${MUTUAL.password}`)]);
  assert.equal(good.code, 0, good.stderr);
  assert.match(good.stdout, /DIRECT_ACCESS/);
  const bad = await run(tool, ['-i', LIBISCSI_INITIATOR, fx.url(CHAP, `target_user=${MUTUAL.username}&target_password=wrong-one-99`)]);
  assert.notEqual(bad.code, 0);
  assert.match(bad.stdout + bad.stderr, /CHAP_R/);
});

test('an initiator not on the access list is refused', async (t) => {
  const tool = requireTool(t, 'iscsi-inq');
  if (!tool) return;
  const fx = await startTarget(t);
  const res = await run(tool, ['-i', 'iqn.2001-01.org.example:not-allowed', fx.url()]);
  assert.notEqual(res.code, 0);
  assert.match(res.stdout + res.stderr, /Authorization failure|Failed to log in/);
  fx.server.denyInitiator(IQN, LIBISCSI_INITIATOR);
  const revoked = await run(tool, ['-i', LIBISCSI_INITIATOR, fx.url()]);
  assert.notEqual(revoked.code, 0);
});

test('libiscsi with CRC32C header digests when the target prefers them', async (t) => {
  const tool = requireTool(t, 'iscsi-readcapacity16');
  if (!tool) return;
  const fx = await startTarget(t, { server: { limits: { preferHeaderDigest: true } } });
  const res = await run(tool, ['-i', LIBISCSI_INITIATOR, '-s', fx.url()]);
  assert.equal(res.code, 0, res.stderr);
  assert.equal(res.stdout.trim(), String(64 << 20));
});

test('iscsi-ls with credentials and no discovery CHAP (as os-brick-style callers do), and -s logs in to list LUNs', async (t) => {
  const tool = requireTool(t, 'iscsi-ls');
  if (!tool) return;
  const fx = await startTarget(t, { target: { chap: CHAP } });
  const url = `iscsi://${CHAP.username}%${CHAP.password}@127.0.0.1:${fx.port}`;
  const listed = await run(tool, ['-i', LIBISCSI_INITIATOR, url]);
  assert.equal(listed.code, 0, listed.stdout + listed.stderr);
  assert.match(listed.stdout, /Target:iqn\.2010-10\.org\.openstack:volume-/);
  const luns = await run(tool, ['-i', LIBISCSI_INITIATOR, '-s', url]);
  assert.equal(luns.code, 0, luns.stdout + luns.stderr);
  assert.match(luns.stdout, /Lun:0\s+Type:DIRECT_ACCESS/);
});
