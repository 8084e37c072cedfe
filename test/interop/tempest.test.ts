// OpenStack's own API test suite, tempest.api.volume from Debian's tempest, run against the
// service as a cloud runs it: an API service and two storage backends (volume services named
// a and b, each with its own data and iSCSI portal) on PostgreSQL and RabbitMQ, behind a real
// Keystone with dynamic credentials, so tempest makes its own projects and users. Every test's
// result is committed in tempest-expected.json (a skip or an exclusion with its reason); the run
// must give exactly those results.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdir, open, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { randomBytes } from 'node:crypto';
import { createTestDatabase } from '../helpers/databases.js';
import { freePort, RABBITMQ_URL, requireTool, UNLIMITED_QUOTA_ENV } from '../helpers/env.js';
import { startKeystone } from '../helpers/keystone.js';
import { CLI_PATH, describe as describeOutput, run, scratchDir, spawnServe, type ServeProcess } from '../helpers/process.js';

const TEMPEST_TREE = '/usr/lib/python3/dist-packages/tempest';
const RESULTS_SCRIPT = fileURLToPath(new URL('../../../test/interop/py/tempest_results.py', import.meta.url));
const EXPECTED_FILE = fileURLToPath(new URL('../../../test/interop/tempest-expected.json', import.meta.url));
const SUITE = '^tempest\\.api\\.volume\\.';
const BACKENDS = ['a', 'b'] as const;
const READY_TIMEOUT_MS = 60_000;
const RUN_TIMEOUT_MS = 25 * 60_000;
/**
 * TEMPEST_UPDATE_EXPECTED=1 runs every test, excluded ones too, and rewrites tempest-expected.json
 * from the results instead of comparing: a new failure becomes an exclusion whose reason says
 * FAILS, to be replaced by the real one.
 */
const UPDATE_EXPECTED = process.env.TEMPEST_UPDATE_EXPECTED === '1';

type Outcome = 'pass' | 'skip' | 'excluded';
interface Expectation {
  expect: Outcome;
  /** Required for anything but a pass. */
  why?: string;
}

interface Result {
  status: 'pass' | 'fail' | 'skip';
  reason: string;
}

/** Runs a command with its stdout into a file (tempest's subunit stream can be many megabytes). */
async function runToFile(
  file: string,
  args: string[],
  outFile: string,
  options: { cwd: string; env: NodeJS.ProcessEnv; timeoutMs: number },
): Promise<{ code: number | null; signal: NodeJS.Signals | null; stderr: string }> {
  const out = await open(outFile, 'w');
  try {
    // Its own process group, so that a timeout stops stestr's workers too.
    const child = spawn(file, args, { cwd: options.cwd, env: options.env, stdio: ['ignore', out.fd, 'pipe'], detached: true });
    let stderr = '';
    child.stderr!.setEncoding('utf8').on('data', (chunk: string) => (stderr = (stderr + chunk).slice(-64 * 1024)));
    const killGroup = () => {
      try {
        process.kill(-child.pid!, 'SIGKILL');
      } catch {
        // Already gone.
      }
    };
    const timer = setTimeout(killGroup, options.timeoutMs);
    process.once('exit', killGroup);
    try {
      const [code, signal] = (await once(child, 'exit')) as [number | null, NodeJS.Signals | null];
      return { code, signal, stderr };
    } finally {
      clearTimeout(timer);
      process.off('exit', killGroup);
    }
  } finally {
    await out.close();
  }
}

function escapeRegex(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

function tempestConf(keystoneUrl: string, adminPassword: string): string {
  return `[DEFAULT]
log_file = tempest.log
[auth]
use_dynamic_credentials = true
admin_username = admin
admin_password = ${adminPassword}
admin_project_name = admin
admin_domain_name = Default
tempest_roles = member
[identity]
uri_v3 = ${keystoneUrl}
auth_version = v3
[identity-feature-enabled]
api_v2 = false
[service_available]
cinder = true
nova = false
glance = false
neutron = false
swift = false
[volume]
catalog_type = volumev3
min_microversion = 3.0
max_microversion = 3.70
# A loaded CI machine runs the rest of the suite beside it.
build_timeout = 300
vendor_name = Cinderblock
storage_protocol = iSCSI
backend_names = ${BACKENDS.join(',')}
# The file driver names its files volume-<id> and snapshot-<id>, and adopts files by name.
manage_volume_ref = source-name,volume-%s
manage_snapshot_ref = source-name,snapshot-%s
[volume-feature-enabled]
multi_backend = true
manage_volume = true
manage_snapshot = true
backup = true
`;
}

async function writeExpected(testIds: string[], previous: Record<string, Expectation>, results: Record<string, Result>): Promise<void> {
  const next: Record<string, Expectation> = {};
  for (const id of testIds) {
    const got = resultOf(results, id);
    if (got?.status === 'pass') next[id] = { expect: 'pass' };
    // A reason written by hand is kept while it still quotes tempest's own.
    else if (got?.status === 'skip') next[id] = { expect: 'skip', why: previous[id]?.why?.includes(got.reason) ? previous[id]!.why : got.reason };
    else if (previous[id]?.expect === 'excluded') next[id] = previous[id];
    else next[id] = { expect: 'excluded', why: `FAILS: ${got?.reason ?? 'no result'}` };
  }
  await writeFile(EXPECTED_FILE, JSON.stringify(next, null, 1) + '\n');
}

/** The API answers and the scheduler has both backends' capacity, so tempest's first create has somewhere to go. */
async function untilBothBackendsReport(endpoint: string, adminToken: string, processes: ServeProcess[]): Promise<void> {
  const deadline = Date.now() + READY_TIMEOUT_MS;
  let last = '';
  while (Date.now() < deadline) {
    for (const p of processes) if (p.proc.exitCode !== null) throw new Error(`a service exited: ${describeOutput(p.output())}`);
    try {
      const res = await fetch(`${endpoint}/scheduler-stats/get_pools`, { headers: { 'X-Auth-Token': adminToken } });
      last = await res.text();
      if (res.ok && (JSON.parse(last) as { pools: unknown[] }).pools.length === BACKENDS.length) return;
    } catch (err) {
      last = String(err);
    }
    await new Promise((r) => setTimeout(r, 250));
  }
  throw new Error(`the backends did not report within ${READY_TIMEOUT_MS / 1000} s: ${last}`);
}

/** A test's result: its own, or its class's when setUpClass skipped or failed the whole class. */
function resultOf(results: Record<string, Result>, testId: string): Result | undefined {
  const own = results[testId];
  if (own) return own;
  const klass = testId.slice(0, testId.lastIndexOf('.'));
  return results[`setUpClass (${klass})`];
}

test('tempest.api.volume through a real Keystone gives every test its committed result', { timeout: RUN_TIMEOUT_MS + 120_000 }, async (t) => {
  const tempest = requireTool(t, '/usr/bin/tempest');
  const stestr = requireTool(t, '/usr/bin/stestr');
  const python = requireTool(t, '/usr/bin/python3');
  if (!tempest || !stestr || !python) return;
  const expected = JSON.parse(await readFile(EXPECTED_FILE, 'utf8')) as Record<string, Expectation>;
  for (const [id, e] of Object.entries(expected)) {
    assert.ok(e.expect === 'pass' || e.why, `${id}: a ${e.expect} needs its reason in tempest-expected.json`);
  }

  const ks = await startKeystone(t, { tokenExpirationSeconds: 7200 });
  if (!ks) return;
  const dir = await scratchDir(t, 'cinderblock-tempest-');
  const passwordFile = join(dir, 'password');
  await writeFile(passwordFile, ks.users.cinder.password);
  const database = await createTestDatabase('postgres');
  t.after(() => database.cleanup());
  // Queues are named after storage hosts: a host of its own keeps concurrent runs on one broker apart.
  const host = `tempest-${randomBytes(4).toString('hex')}`;
  const common = ['--database', database.url, '--rpc', RABBITMQ_URL];
  const migrated = await run(process.execPath, [CLI_PATH, 'migrate', '--database', database.url]);
  assert.equal(migrated.code, 0, migrated.stderr);
  const processes: ServeProcess[] = [];
  for (const backend of BACKENDS) {
    const args = [...common, '--host', host, '--volume-backend-name', backend, '--data-dir', join(dir, `backend-${backend}`)];
    // One backup store for both, as Cinder's posix driver on a share: a backup of a volume on one
    // backend may be restored to a volume on the other.
    const env = { CINDERBLOCK_BACKUP_POSIX_PATH: join(dir, 'backups') };
    processes.push(await spawnServe(t, [...args, '--iscsi-listen', `127.0.0.1:${await freePort()}`], env, { command: 'volume' }));
  }
  const apiPort = await freePort();
  const keystoneArgs = ['--auth-strategy', 'keystone', '--keystone-url', ks.url, '--keystone-password-file', passwordFile];
  // tempest makes dozens of volumes in some of its projects.
  const api = await spawnServe(t, [...common, ...keystoneArgs, '--api-listen', `127.0.0.1:${apiPort}`], UNLIMITED_QUOTA_ENV, { command: 'api' });
  processes.push(api);
  const endpoint = `http://127.0.0.1:${apiPort}/v3`;
  await ks.setVolumeEndpoint(`${endpoint}/%(project_id)s`);
  await untilBothBackendsReport(endpoint, (await ks.token('admin')).token, processes);

  // A workspace of its own, as `tempest init` makes one, without registering it in ~/.tempest.
  const workspace = join(dir, 'workspace');
  await mkdir(join(workspace, 'etc'), { recursive: true });
  await writeFile(join(workspace, '.stestr.conf'), `[DEFAULT]\ntest_path=${TEMPEST_TREE}/test_discover\ntop_dir=${TEMPEST_TREE}\ngroup_regex=([^\\.]*\\.)*\n`);
  const conf = join(workspace, 'etc', 'tempest.conf');
  await writeFile(conf, tempestConf(ks.url, ks.users.admin.password));
  const env = { ...Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('OS_'))), TEMPEST_CONFIG_DIR: join(workspace, 'etc') };

  const init = await run(stestr, ['init'], { cwd: workspace, env });
  assert.equal(init.code, 0, init.stderr);
  const listed = await run(tempest, ['run', '--config-file', conf, '--list-tests', '--regex', SUITE], { cwd: workspace, env, timeoutMs: 120_000 });
  assert.equal(listed.code, 0, listed.stderr);
  const testIds = [...new Set(listed.stdout.split('\n').filter((l) => l.startsWith('tempest.api.volume.')).map((l) => l.replace(/\[.*\]$/, '').trim()))].sort();
  if (!UPDATE_EXPECTED) assert.deepEqual(testIds, Object.keys(expected).sort(), 'tempest-expected.json lists exactly the tests this tempest has');

  // Updating runs the excluded tests too, to find the ones that pass now.
  const excluded = UPDATE_EXPECTED ? [] : testIds.filter((id) => expected[id]?.expect === 'excluded');
  const args = ['run', '--config-file', conf, '--regex', SUITE, '--concurrency', '2', '--subunit'];
  if (excluded.length) args.push('--exclude-regex', `^(${excluded.map(escapeRegex).join('|')})(\\[|$)`);
  const started = Date.now();
  const subunitFile = join(dir, 'results.subunit');
  const ran = await runToFile(tempest, args, subunitFile, { cwd: workspace, env, timeoutMs: RUN_TIMEOUT_MS });
  // A failing test exits non-zero too: the comparison below says which; only a crash of tempest itself stops here.
  assert.ok(ran.code === 0 || ran.code === 1, `tempest run ended with ${ran.code ?? ran.signal}: ${ran.stderr.slice(-4000)}`);
  const parsed = await run(python, [RESULTS_SCRIPT, subunitFile], { timeoutMs: 60_000 });
  assert.equal(parsed.code, 0, parsed.stderr);
  const results = JSON.parse(parsed.stdout) as Record<string, Result>;

  const counts = { pass: 0, fail: 0, skip: 0, excluded: excluded.length };
  const mismatches: string[] = [];
  for (const id of testIds) {
    const want = expected[id] ?? { expect: 'pass' };
    if (want.expect === 'excluded') continue;
    const got = resultOf(results, id);
    const status = got?.status ?? 'fail';
    counts[status]++;
    if (status !== want.expect) mismatches.push(`${id}: expected ${want.expect}, got ${got ? `${status}${got.reason ? ` (${got.reason})` : ''}` : 'no result'}`);
  }
  if (UPDATE_EXPECTED) await writeExpected(testIds, expected, results);
  t.diagnostic(
    `tempest.api.volume: ${counts.pass} passed, ${counts.fail} failed, ${counts.skip} skipped, ${counts.excluded} excluded, of ${testIds.length}, in ${((Date.now() - started) / 1000).toFixed(0)} s`,
  );
  if (!UPDATE_EXPECTED) assert.deepEqual(mismatches, [], `tempest results differ from tempest-expected.json (API service: ${describeOutput(api.output()).slice(-2000)})`);
});
