// A real Keystone for each test that needs one: a copy of the seeded template
// (keystone-template.ts) served by uwsgi on a free loopback port, stopped when the test ends.
//
// Seeded users (each with a random password) and their roles:
//   admin   admin on project admin, and system admin (keystone-manage bootstrap)
//   alice   member on demo         bob   reader on demo        carol  admin on demo
//   dave    member on other        cinder, nova   service on service
// Keystone's implied roles add the rest to each token: admin => member => reader.
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TestContext } from 'node:test';
import { requireTool } from './env.js';
import { KeystoneApi, type IssuedToken } from './keystone-api.js';
import { KEYSTONE_TOOLS, keystoneUrl, serveKeystone, serveOnFreePort, type KeystoneServer } from './keystone-server.js';
import {
  copyTemplateState,
  keystoneTemplate,
  type KeystoneProject,
  type KeystoneProjectName,
  type KeystoneSeed,
  type KeystoneUser,
  type KeystoneUserName,
} from './keystone-template.js';

export type { KeystoneUser, KeystoneProject, KeystoneUserName, KeystoneProjectName };

export interface RealKeystone {
  /** http://127.0.0.1:PORT/v3 */
  url: string;
  users: Record<KeystoneUserName, KeystoneUser>;
  projects: Record<KeystoneProjectName, KeystoneProject>;
  /** Password auth scoped to the user's project (or another given project); returns the token and its expiry. */
  token(user: KeystoneUserName, opts?: { projectId?: string }): Promise<IssuedToken>;
  /**
   * Catalog: volumev3 (`cinderv3`) and block-storage (`cinder`) services with public, internal
   * and admin endpoints at this URL template, e.g. http://127.0.0.1:1234/v3/%(project_id)s;
   * replaces any previous ones. Also an image service (`glance`) at `imageUrl`: the openstack
   * CLI builds its image client, which needs one in the catalog, even for a plain volume create.
   */
  setVolumeEndpoint(urlTemplate: string, opts?: { imageUrl?: string }): Promise<void>;
  /** Revokes a token (DELETE /v3/auth/tokens). */
  revoke(token: string): Promise<void>;
  /** A clouds.yaml with clouds ks-<user> for each user (password auth), for the CLIs via OS_CLIENT_CONFIG_FILE. */
  cloudsYaml: string;
  /** Stops Keystone (for outage tests); tokens it issued stay valid once it is started again. */
  stop(): Promise<void>;
  /** Starts it again on the same URL; does nothing while it runs. */
  start(): Promise<void>;
}

export interface StartKeystoneOptions {
  /** Lifetime of the tokens it issues; Keystone's default is an hour. */
  tokenExpirationSeconds?: number;
}

const VOLUME_SERVICES = [
  { type: 'volumev3', name: 'cinderv3' },
  { type: 'block-storage', name: 'cinder' },
] as const;
const IMAGE_SERVICE = { type: 'image', name: 'glance' } as const;
/** Nothing listens there: no test asks the image service anything. */
const UNUSED_IMAGE_URL = 'http://127.0.0.1:9/image';

let templateBuildReported = false;

/**
 * Starts a Keystone for this test, stopped (and its files removed) when the test ends.
 * Resolves null, with the test skipped, when Keystone is not installed outside CI; in CI
 * (CI=true) that fails the test instead.
 */
export async function startKeystone(t: TestContext, opts: StartKeystoneOptions = {}): Promise<RealKeystone | null> {
  for (const tool of KEYSTONE_TOOLS) if (!requireTool(t, tool)) return null;
  const tokenExpirationSeconds = opts.tokenExpirationSeconds ?? 3600;
  if (!Number.isInteger(tokenExpirationSeconds) || tokenExpirationSeconds < 1) {
    throw new Error(`startKeystone: tokenExpirationSeconds must be a positive whole number of seconds, got ${tokenExpirationSeconds}`);
  }
  const template = await keystoneTemplate();
  if (template.builtInMs !== undefined && !templateBuildReported) {
    templateBuildReported = true;
    t.diagnostic(`built the seeded Keystone template in ${(template.builtInMs / 1000).toFixed(1)} s: ${template.dir}`);
  }

  const stateDir = await mkdtemp(join(tmpdir(), 'cinderblock-keystone-run-'));
  let server: KeystoneServer | undefined;
  t.after(async () => {
    await server?.stop();
    await rm(stateDir, { recursive: true, force: true });
  });
  await copyTemplateState(template, stateDir);
  const served = await serveOnFreePort(stateDir, tokenExpirationSeconds);
  server = served.server;
  const url = keystoneUrl(served.port);
  const api = new KeystoneApi(url);
  const { users, projects } = template.seed;

  const token = async (name: KeystoneUserName, tokenOpts: { projectId?: string } = {}) => {
    const user = users[name];
    if (!user) throw new Error(`startKeystone: no seeded user "${name}" (there are ${Object.keys(users).join(', ')})`);
    return api.passwordToken({ id: user.id }, user.password, { id: tokenOpts.projectId ?? user.projectId });
  };
  // A fresh one each time: a test may have made tokens short-lived or revoked admin's.
  const adminToken = async () => (await token('admin')).token;

  const setVolumeEndpoint = async (urlTemplate: string, endpointOpts: { imageUrl?: string } = {}) => {
    const auth = await adminToken();
    const services = [
      ...VOLUME_SERVICES.map((s) => ({ ...s, url: urlTemplate })),
      { ...IMAGE_SERVICE, url: endpointOpts.imageUrl ?? UNUSED_IMAGE_URL },
    ];
    for (const { type, name, url: endpointUrl } of services) {
      const existing = (await api.request('GET', `/services?type=${type}`, { token: auth })).body.services;
      // Deleting a service deletes its endpoints with it.
      for (const old of existing) await api.request('DELETE', `/services/${old.id}`, { token: auth });
      const service = (
        await api.request('POST', '/services', {
          token: auth,
          body: { service: { type, name, description: type === 'image' ? 'OpenStack Image' : 'OpenStack Block Storage', enabled: true } },
        })
      ).body.service;
      for (const iface of ['public', 'internal', 'admin']) {
        await api.request('POST', '/endpoints', {
          token: auth,
          body: { endpoint: { service_id: service.id, interface: iface, url: endpointUrl, region_id: 'RegionOne', enabled: true } },
        });
      }
    }
  };

  const revoke = async (subjectToken: string) => {
    await api.request('DELETE', '/auth/tokens', { token: await adminToken(), subjectToken, expect: [204] });
  };

  const cloudsYaml = join(stateDir, 'clouds.yaml');
  await writeFile(cloudsYaml, cloudsFile(url, template.seed), { mode: 0o600 });

  return {
    url,
    users,
    projects,
    token,
    setVolumeEndpoint,
    revoke,
    cloudsYaml,
    stop: async () => {
      const running = server;
      server = undefined;
      await running?.stop();
    },
    start: async () => {
      server ??= await serveKeystone(stateDir, served.port);
    },
  };
}

/** JSON, which is YAML, so no YAML writer is needed. */
function cloudsFile(url: string, seed: KeystoneSeed): string {
  const clouds = Object.fromEntries(
    Object.values(seed.users).map((user) => [
      `ks-${user.name}`,
      {
        auth: { auth_url: url, username: user.name, password: user.password, user_domain_id: 'default', project_id: user.projectId },
        region_name: 'RegionOne',
        identity_api_version: 3,
      },
    ]),
  );
  return `${JSON.stringify({ clouds }, null, 2)}\n`;
}
