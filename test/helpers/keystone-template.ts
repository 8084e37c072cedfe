// A bootstrapped, seeded Keystone state directory, built once per machine and copied for
// each test: building one costs 15-20 s (db_sync is most of it), copying one milliseconds.
//
// It lives in os.tmpdir() under a name made of the keystone package version and a hash of
// the harness's own source, so any change to what is seeded or how gets a new template, and
// test runs of different checkouts on one machine share the ones they agree on. A build
// happens in a directory of its own under a lock, and is renamed into place only once
// complete: a concurrent reader waits for it, and a build that died is never used.
import { createHash, randomBytes } from 'node:crypto';
import { cp, mkdir, readFile, readdir, rename, rm, writeFile } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import BetterSqlite3 from 'better-sqlite3';
import { KeystoneApi } from './keystone-api.js';
import {
  IDENTITY_ENDPOINT_TEMPLATE,
  keyOwnerArgs,
  keystoneManage,
  keystoneUrl,
  serveOnFreePort,
  writeKeystoneConf,
} from './keystone-server.js';
import { run } from './process.js';

export type KeystoneUserName = 'admin' | 'alice' | 'bob' | 'carol' | 'dave' | 'cinder' | 'nova';
export type KeystoneProjectName = 'admin' | 'demo' | 'other' | 'service';

export interface KeystoneUser {
  id: string;
  name: string;
  password: string;
  projectId: string;
  projectName: string;
}

export interface KeystoneProject {
  id: string;
  name: string;
}

/** What a build created, read back by every test that copies the template (seed.json). */
export interface KeystoneSeed {
  users: Record<KeystoneUserName, KeystoneUser>;
  projects: Record<KeystoneProjectName, KeystoneProject>;
}

export interface KeystoneTemplate {
  dir: string;
  seed: KeystoneSeed;
  /** Set when this process built the template, so the test that paid for it can say so. */
  builtInMs?: number;
}

/** admin, member and reader (admin implies member implies reader) come from keystone-manage bootstrap. */
const SEEDED_PROJECTS = [
  { name: 'demo', description: 'Cinderblock test project' },
  { name: 'other', description: 'A second tenant, to test isolation' },
  { name: 'service', description: 'Service users' },
] as const;

const SEEDED_USERS = [
  { name: 'alice', project: 'demo', role: 'member' },
  { name: 'bob', project: 'demo', role: 'reader' },
  { name: 'carol', project: 'demo', role: 'admin' },
  { name: 'dave', project: 'other', role: 'member' },
  // Keystone's identity:validate_token policy lets the service role validate other users' tokens.
  { name: 'cinder', project: 'service', role: 'service' },
  { name: 'nova', project: 'service', role: 'service' },
] as const;

/** The harness modules whose text decides what a template holds. */
const HARNESS_SOURCES = ['./keystone-template.js', './keystone-server.js', './keystone-api.js'];

/** Files a complete template has; the build writes seed.json last. */
const TEMPLATE_PARTS = ['keystone.db', 'fernet-keys', 'credential-keys', 'seed.json'];

// Polling, not SQLite's busy timeout: that would block this process's event loop while it waits.
const LOCK_POLL_MS = 250;
const LOCK_WAIT_MS = 5 * 60_000;

let template: Promise<KeystoneTemplate> | undefined;

/** The seeded template, built by this process or another one if there is none yet. */
export function keystoneTemplate(): Promise<KeystoneTemplate> {
  template ??= findOrBuildTemplate();
  return template;
}

/** Copies the template's database and keys into `stateDir`, ready for writeKeystoneConf. */
export async function copyTemplateState(from: KeystoneTemplate, stateDir: string): Promise<void> {
  await mkdir(stateDir, { recursive: true });
  for (const part of ['keystone.db', 'fernet-keys', 'credential-keys']) {
    await cp(join(from.dir, part), join(stateDir, part), { recursive: true });
  }
}

async function findOrBuildTemplate(): Promise<KeystoneTemplate> {
  const dir = join(tmpdir(), `cinderblock-keystone-${await templateKey()}`);
  const ready = await readTemplate(dir);
  if (ready) return ready;
  return withLock(`${dir}.lock`, async () => {
    const builtMeanwhile = await readTemplate(dir);
    if (builtMeanwhile) return builtMeanwhile;
    // Holding the lock, nothing else is building: what is there is left from a build that
    // died, or a template a tmp cleaner has been eating into.
    await removeLeftovers(dir);
    const started = Date.now();
    const building = `${dir}.building-${process.pid}-${randomBytes(4).toString('hex')}`;
    try {
      await buildTemplate(building);
      await rename(building, dir);
    } catch (err) {
      await rm(building, { recursive: true, force: true });
      throw err;
    }
    return { ...(await readTemplate(dir))!, builtInMs: Date.now() - started };
  });
}

async function templateKey(): Promise<string> {
  const version = await run('/usr/bin/dpkg-query', ['-W', '-f=${Version}', 'keystone']);
  if (version.code !== 0 || !version.stdout.trim()) {
    throw new Error(`cannot read the keystone package version (dpkg-query: ${version.stderr.trim() || 'no output'})`);
  }
  const hash = createHash('sha256');
  for (const source of HARNESS_SOURCES) hash.update(await readFile(fileURLToPath(new URL(source, import.meta.url))));
  return `${version.stdout.trim().replace(/[^A-Za-z0-9.+-]/g, '_')}-${hash.digest('hex').slice(0, 16)}`;
}

async function readTemplate(dir: string): Promise<KeystoneTemplate | null> {
  if (!TEMPLATE_PARTS.every((part) => existsSync(join(dir, part)))) return null;
  const seed = JSON.parse(await readFile(join(dir, 'seed.json'), 'utf8')) as KeystoneSeed;
  return { dir, seed };
}

async function removeLeftovers(dir: string): Promise<void> {
  const parent = dirname(dir);
  const name = dir.slice(parent.length + 1);
  for (const entry of await readdir(parent)) {
    if (entry === name || entry.startsWith(`${name}.building-`)) await rm(join(parent, entry), { recursive: true, force: true });
  }
}

/**
 * Runs `fn` holding an exclusive lock on `path`. The lock is SQLite's (an fcntl lock, as in
 * src/data-dir-lock.ts), which the kernel drops when its process dies, however it dies.
 */
async function withLock<T>(path: string, fn: () => Promise<T>): Promise<T> {
  const deadline = Date.now() + LOCK_WAIT_MS;
  for (;;) {
    const lock = new BetterSqlite3(path, { timeout: 0 });
    try {
      lock.pragma('locking_mode = EXCLUSIVE');
      // The first write takes the exclusive lock; in this mode it is kept until close.
      lock.exec('create table if not exists holder (pid integer not null); delete from holder;');
      lock.prepare('insert into holder (pid) values (?)').run(process.pid);
    } catch (err) {
      lock.close();
      if ((err as { code?: string }).code !== 'SQLITE_BUSY') throw err;
      if (Date.now() > deadline) throw new Error(`gave up after ${LOCK_WAIT_MS} ms waiting for ${path}, held by another Keystone template build`);
      await new Promise((resolve) => setTimeout(resolve, LOCK_POLL_MS));
      continue;
    }
    try {
      return await fn();
    } finally {
      lock.close();
    }
  }
}

async function buildTemplate(dir: string): Promise<void> {
  await mkdir(dir);
  const adminPassword = randomBytes(12).toString('hex');
  // keystone-manage reads no port; serveOnFreePort rewrites the configuration with a real one.
  await writeKeystoneConf(dir, { port: 0, tokenExpirationSeconds: 3600 });
  await keystoneManage(dir, ['db_sync']);
  // A password auth leaves a SQLite read lock held in its worker; in rollback-journal mode
  // every later write then fails after 5 s with a 500 "database is locked".
  databasePragma(dir, 'journal_mode = WAL');
  await keystoneManage(dir, ['fernet_setup', ...keyOwnerArgs()]);
  await keystoneManage(dir, ['credential_setup', ...keyOwnerArgs()]);
  await keystoneManage(
    dir,
    [
      'bootstrap',
      '--bootstrap-username', 'admin',
      '--bootstrap-project-name', 'admin',
      '--bootstrap-role-name', 'admin',
      '--bootstrap-service-name', 'keystone',
      '--bootstrap-region-id', 'RegionOne',
      '--bootstrap-admin-url', IDENTITY_ENDPOINT_TEMPLATE,
      '--bootstrap-internal-url', IDENTITY_ENDPOINT_TEMPLATE,
      '--bootstrap-public-url', IDENTITY_ENDPOINT_TEMPLATE,
    ],
    { OS_BOOTSTRAP_PASSWORD: adminPassword },
  );
  const { server, port } = await serveOnFreePort(dir, 3600);
  let seed: KeystoneSeed;
  try {
    seed = await seedKeystone(new KeystoneApi(keystoneUrl(port)), adminPassword);
  } finally {
    await server.stop();
  }
  // Folds the WAL into keystone.db, so copying that one file copies the whole database.
  databasePragma(dir, 'wal_checkpoint(TRUNCATE)');
  await writeFile(join(dir, 'seed.json'), JSON.stringify(seed, null, 2), { mode: 0o600 });
}

function databasePragma(stateDir: string, pragma: string): void {
  const db = new BetterSqlite3(join(stateDir, 'keystone.db'));
  try {
    db.pragma(pragma);
  } finally {
    db.close();
  }
}

async function seedKeystone(api: KeystoneApi, adminPassword: string): Promise<KeystoneSeed> {
  const { token } = await api.passwordToken({ name: 'admin' }, adminPassword, { name: 'admin' });
  const get = async (path: string) => (await api.request('GET', path, { token })).body;
  const post = async (path: string, body: unknown) => (await api.request('POST', path, { token, body })).body;

  const roles = new Map<string, string>((await get('/roles')).roles.map((r: { name: string; id: string }) => [r.name, r.id]));
  if (!roles.has('service')) roles.set('service', (await post('/roles', { role: { name: 'service' } })).role.id);

  const projects = { admin: { id: (await get('/projects?name=admin')).projects[0].id, name: 'admin' } } as KeystoneSeed['projects'];
  for (const { name, description } of SEEDED_PROJECTS) {
    const created = await post('/projects', { project: { name, description, domain_id: 'default' } });
    projects[name] = { id: created.project.id, name };
  }

  const adminId = (await get('/users?name=admin')).users[0].id;
  const users = {
    admin: { id: adminId, name: 'admin', password: adminPassword, projectId: projects.admin.id, projectName: 'admin' },
  } as KeystoneSeed['users'];
  for (const { name, project, role } of SEEDED_USERS) {
    const password = randomBytes(12).toString('hex');
    const projectId = projects[project].id;
    const created = await post('/users', { user: { name, password, domain_id: 'default', default_project_id: projectId } });
    await api.request('PUT', `/projects/${projectId}/users/${created.user.id}/roles/${roles.get(role)}`, { token });
    users[name] = { id: created.user.id, name, password, projectId, projectName: project };
  }
  return { users, projects };
}
