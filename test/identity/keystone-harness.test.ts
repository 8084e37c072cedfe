// The Keystone every identity test runs against: the seeded users get the tokens, roles
// and catalog a Block Storage service will see, the way that service will see them
// (a service user validating with GET /v3/auth/tokens), and the real CLI logs in with
// the clouds.yaml it is given.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { requireTool } from '../helpers/env.js';
import { startKeystone, type RealKeystone } from '../helpers/keystone.js';
import { KEYSTONE_TOOLS } from '../helpers/keystone-server.js';
import { keystoneTemplate } from '../helpers/keystone-template.js';
import { run } from '../helpers/process.js';

interface ValidatedToken {
  user: { id: string; name: string };
  project: { id: string; name: string };
  roles: Array<{ id: string; name: string }>;
  expires_at: string;
  catalog: Array<{ type: string; name: string; endpoints: Array<{ interface: string; url: string; region_id: string }> }>;
}

/** What a Block Storage service does with a user's token: validate it with its own. */
async function validate(ks: RealKeystone, serviceToken: string, subjectToken: string): Promise<{ status: number; token?: ValidatedToken }> {
  const res = await fetch(`${ks.url}/auth/tokens`, { headers: { 'X-Auth-Token': serviceToken, 'X-Subject-Token': subjectToken } });
  const body = (await res.json()) as { token?: ValidatedToken };
  return { status: res.status, token: body.token };
}

const roleNames = (token: ValidatedToken | undefined) => token?.roles.map((r) => r.name).sort();

test('a real Keystone: seeded tokens, validation by a service user, revocation, volume catalog, openstack CLI, restart', async (t) => {
  const ks = await startKeystone(t);
  if (!ks) return;
  assert.match(ks.url, /^http:\/\/127\.0\.0\.1:\d+\/v3$/);

  const [alice, bob, carol, dave, nova, cinder] = await Promise.all(
    (['alice', 'bob', 'carol', 'dave', 'nova', 'cinder'] as const).map((name) => ks.token(name)),
  );
  const asCinder = (subject: string) => validate(ks, cinder!.token, subject);

  const seenAlice = await asCinder(alice!.token);
  assert.equal(seenAlice.status, 200);
  assert.equal(seenAlice.token!.user.id, ks.users.alice.id);
  assert.deepEqual(seenAlice.token!.project, { id: ks.projects.demo.id, name: 'demo', domain: { id: 'default', name: 'Default' } });
  assert.deepEqual(roleNames(seenAlice.token), ['member', 'reader']);
  assert.equal(seenAlice.token!.expires_at, alice!.expiresAt);

  const [seenBob, seenCarol, seenDave, seenNova] = await Promise.all([bob, carol, dave, nova].map((issued) => asCinder(issued!.token)));
  assert.deepEqual([seenBob.token!.project.id, roleNames(seenBob.token)], [ks.projects.demo.id, ['reader']]);
  assert.deepEqual([seenCarol.token!.project.id, roleNames(seenCarol.token)], [ks.projects.demo.id, ['admin', 'member', 'reader']]);
  assert.deepEqual([seenDave.token!.project.id, roleNames(seenDave.token)], [ks.projects.other.id, ['member', 'reader']]);
  assert.deepEqual([seenNova.token!.project.id, roleNames(seenNova.token)], [ks.projects.service.id, ['service']]);

  // Only the service role lets one user see another's token.
  assert.equal((await validate(ks, dave!.token, alice!.token)).status, 403);
  // A user with a role on another project can be scoped there; without one it is refused.
  const carolOnOther = ks.token('carol', { projectId: ks.projects.other.id });
  await assert.rejects(carolOnOther, /answered 401/);

  await ks.revoke(bob!.token);
  assert.equal((await asCinder(bob!.token)).status, 404);
  assert.equal((await asCinder(alice!.token)).status, 200, 'revoking one token leaves the others valid');

  // The identity endpoints name this copy's own port, whatever port the template was built on.
  const identity = seenAlice.token!.catalog.find((s) => s.type === 'identity');
  assert.deepEqual([...new Set(identity?.endpoints.map((e) => e.url))], [ks.url]);
  assert.equal(seenAlice.token!.catalog.find((s) => s.type === 'volumev3'), undefined);

  const catalogOf = async () => (await asCinder((await ks.token('alice')).token)).token!.catalog;
  const volumeEndpoints = (catalog: ValidatedToken['catalog']) =>
    Object.fromEntries(
      ['volumev3', 'block-storage'].map((type) => {
        const services = catalog.filter((s) => s.type === type);
        return [type, services.map((s) => [s.name, s.endpoints.map((e) => `${e.interface} ${e.url}`).sort()])];
      }),
    );
  await ks.setVolumeEndpoint('http://127.0.0.1:1111/v3/%(project_id)s');
  await ks.setVolumeEndpoint('http://127.0.0.1:2222/v3/%(project_id)s');
  const url = `http://127.0.0.1:2222/v3/${ks.projects.demo.id}`;
  const endpoints = [`admin ${url}`, `internal ${url}`, `public ${url}`];
  assert.deepEqual(volumeEndpoints(await catalogOf()), { volumev3: [['cinderv3', endpoints]], 'block-storage': [['cinder', endpoints]] });

  const openstack = requireTool(t, '/usr/bin/openstack');
  if (!openstack) return;
  const env = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('OS_')));
  const issued = await run(openstack, ['--os-cloud', 'ks-alice', 'token', 'issue', '-f', 'json'], {
    env: { ...env, OS_CLIENT_CONFIG_FILE: ks.cloudsYaml },
    timeoutMs: 60_000,
  });
  assert.equal(issued.code, 0, `openstack token issue failed:\n${issued.stderr}`);
  const cliToken = JSON.parse(issued.stdout) as { id: string; project_id: string; user_id: string };
  assert.deepEqual([cliToken.user_id, cliToken.project_id], [ks.users.alice.id, ks.projects.demo.id]);
  assert.equal((await asCinder(cliToken.id)).status, 200);

  await ks.stop();
  await assert.rejects(fetch(ks.url), /fetch failed/);
  await ks.start();
  assert.equal((await asCinder(alice!.token)).status, 200, 'tokens survive a restart: the fernet keys and the database stay');
  assert.equal((await asCinder(bob!.token)).status, 404, 'and so do revocations');
});

test('a Keystone copied from the built template starts in seconds, with the token lifetime asked for', async (t) => {
  for (const tool of KEYSTONE_TOOLS) if (!requireTool(t, tool)) return;
  // Built (or found) first, so the start timed below is a warm one even when this test runs alone.
  await keystoneTemplate();
  const started = performance.now();
  const ks = (await startKeystone(t, { tokenExpirationSeconds: 120 }))!;
  const warmMs = performance.now() - started;
  t.diagnostic(`warm Keystone start: ${(warmMs / 1000).toFixed(2)} s`);

  const before = Date.now();
  const { expiresAt } = await ks.token('dave');
  const lifetimeS = (Date.parse(expiresAt) - before) / 1000;
  assert.ok(lifetimeS > 100 && lifetimeS <= 121, `token lives ${lifetimeS} s, expected 120 s`);
});
