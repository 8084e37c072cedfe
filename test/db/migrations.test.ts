import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { dialectOf, migrate, openDatabase } from '../../src/db/index.js';
import { sqlitePath } from '../../src/db/sqlite/dialect.js';
import { forEachDatabase, volumeRow } from '../helpers/databases.js';

test('database URLs select their engine', () => {
  assert.equal(dialectOf('postgres://u@h/db'), 'postgres');
  assert.equal(dialectOf('postgresql://u@h/db'), 'postgres');
  assert.equal(dialectOf('/var/lib/cinderblock/db.sqlite'), 'sqlite');
  assert.equal(dialectOf('sqlite:/tmp/x.sqlite'), 'sqlite');
  assert.equal(sqlitePath('sqlite:///tmp/x.sqlite'), '/tmp/x.sqlite');
  assert.equal(sqlitePath('sqlite:relative.sqlite'), 'relative.sqlite');
  assert.equal(sqlitePath('/abs.sqlite'), '/abs.sqlite');
});

forEachDatabase('migrations', (db) => {
  let handle: Awaited<ReturnType<typeof openDatabase>>;
  before(async () => {
    handle = await openDatabase(db().url);
  });
  after(async () => {
    await handle.close();
  });

  test('a fresh database gets every table, the __DEFAULT__ type and a service id', async () => {
    const types = await handle.db.selectFrom('volume_types').select(['name']).execute();
    assert.deepEqual(types.map((t) => t.name), ['__DEFAULT__']);
    const uuid = await handle.db.selectFrom('service_state').select('value').where('key', '=', 'service_uuid').executeTakeFirstOrThrow();
    assert.match(uuid.value, /^[0-9a-f-]{36}$/);
    for (const table of ['volumes', 'volume_attachment', 'volume_connections', 'volume_metadata', 'volume_admin_metadata', 'volume_type_extra_specs', 'services', 'snapshots', 'messages', 'volume_type_projects', 'volume_type_encryption', 'default_volume_types', 'group_types', 'group_type_specs', 'groups', 'group_volume_types', 'group_snapshots'] as const) {
      assert.deepEqual(await handle.db.selectFrom(table).selectAll().execute(), [], table);
    }
  });

  test('migrating again applies nothing and keeps the data; a second opener agrees', async () => {
    assert.deepEqual(await migrate(handle.db), []);
    const again = await openDatabase(db().url);
    try {
      const types = await again.db.selectFrom('volume_types').select(['name']).execute();
      assert.equal(types.length, 1);
    } finally {
      await again.close();
    }
  });

  test('a conditional UPDATE reports how many rows it changed on this engine', async () => {
    const [type] = await handle.db.selectFrom('volume_types').select('id').execute();
    const row = volumeRow(type!.id, { id: '9c0a9a7e-2d61-4f7a-9a61-1d2f5e0b8c11', created_at: '2026-01-01T00:00:00.000000' });
    await handle.db.insertInto('volumes').values(row).execute();
    const cas = () =>
      handle.db.updateTable('volumes').set({ status: 'attaching' }).where('id', '=', row.id).where('status', '=', 'available').executeTakeFirst();
    assert.equal(Number((await cas()).numUpdatedRows), 1);
    assert.equal(Number((await cas()).numUpdatedRows), 0);
  });
});
