// `cinderblock migrate` and `cinderblock status`, run as an operator runs them: on a data
// dir or a database URL, beside (or without) a running service.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { createTestDatabase, postgresSkip } from '../helpers/databases.js';
import { tempDir } from '../helpers/env.js';
import { migrationProvider } from '../../src/db/migrations/index.js';
import { CLI_PATH, run, startServeProcess } from '../helpers/process.js';

const cli = (args: string[]) => run(process.execPath, [CLI_PATH, ...args]);
const ALL_MIGRATIONS = Object.keys(await migrationProvider.getMigrations()).sort().join(', ');

test('migrate brings a new SQLite database up to date, then has nothing to do', async (t) => {
  const dir = await tempDir(t);
  const first = await cli(['migrate', '--data-dir', dir]);
  assert.equal(first.code, 0, first.stderr);
  assert.equal(first.stdout, `database ${join(dir, 'cinderblock.sqlite')}: applied ${ALL_MIGRATIONS}\n`);
  const again = await cli(['migrate', '--data-dir', dir]);
  assert.equal(again.stdout, `database ${join(dir, 'cinderblock.sqlite')}: up to date, nothing to apply\n`);
});

test('migrate on PostgreSQL', { skip: postgresSkip }, async (t) => {
  const db = await createTestDatabase('postgres');
  t.after(() => db.cleanup());
  const first = await cli(['migrate', '--database', db.url]);
  assert.equal(first.code, 0, first.stderr);
  assert.ok(first.stdout.endsWith(`: applied ${ALL_MIGRATIONS}\n`), first.stdout);
  assert.match((await cli(['migrate', '--database', db.url])).stdout, /: up to date, nothing to apply\n$/);
});

test('status beside a running service: its storage host up, the volumes by status', async (t) => {
  const svc = await startServeProcess(t);
  const headers = { 'X-Auth-Token': svc.token, 'Content-Type': 'application/json' };
  const created = await fetch(`${svc.endpoint}/${svc.projectId}/volumes`, { method: 'POST', headers, body: JSON.stringify({ volume: { size: 1 } }) });
  const { volume } = (await created.json()) as { volume: { id: string } };
  let status = '';
  for (let i = 0; i < 100 && status !== 'available'; i++) {
    await new Promise((resolve) => setTimeout(resolve, 20));
    const shown = await fetch(`${svc.endpoint}/${svc.projectId}/volumes/${volume.id}`, { headers });
    status = ((await shown.json()) as { volume: { status: string } }).volume.status;
  }
  const out = await cli(['status', '--data-dir', svc.dataDir]);
  assert.equal(out.code, 0, out.stderr);
  assert.match(out.stdout, /^storage hosts \(up while their last heartbeat is under 60 s old\):\n {2}\S+@file {2}cinder-volume {2}up {2}enabled {2}last heartbeat \S+$/m);
  assert.match(out.stdout, /^volumes: available 1$/m);
  assert.match(out.stdout, /^attachments: none$/m);
});

test('status and migrate on a database that cannot be reached name it, password masked', async () => {
  for (const command of ['status', 'migrate']) {
    const out = await cli([command, '--database', 'postgres://admin:hunter2@127.0.0.1:1/cinder']);
    assert.equal(out.code, 1);
    assert.match(out.stderr, /database postgres:\/\/admin:\*\*\*@127\.0\.0\.1:1\/cinder: .*ECONNREFUSED/);
    assert.ok(!out.stderr.includes('hunter2'));
  }
});
