// A database from before quotas: the migration that brings them counts what each project
// already holds, so enforcement starts from the truth rather than from zero.
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { test } from 'node:test';
import { Migrator, type Kysely } from 'kysely';
import { migrate, openDatabase, type Database } from '../../src/db/index.js';
import { migrationProvider } from '../../src/db/migrations/index.js';
import { createTestDatabase, forEachDatabase, volumeRow } from '../helpers/databases.js';

forEachDatabase('quota usage on upgrade', (db) => {
  test('the quotas migration counts existing volumes and snapshots per project and per type', async (t) => {
    const database = await createTestDatabase(db().name);
    t.after(() => database.cleanup());
    const handle = await openDatabase(database.url, { migrate: false });
    t.after(() => handle.close());
    const old = await new Migrator({ db: handle.db, provider: migrationProvider }).migrateTo('0003_snapshots');
    assert.equal(old.error, undefined);
    const raw = handle.db as unknown as Kysely<any>;
    const [defaultType] = await raw.selectFrom('volume_types').select('id').execute();
    const gold = randomUUID();
    await raw.insertInto('volume_types').values({ id: gold, name: 'gold', description: null, is_public: 1, created_at: '2026-01-01T00:00:00.000000' }).execute();
    // Rows as the schema before quotas had them.
    const before = (typeId: string, project: string, size: number) => {
      const { extending_to: _, ...row } = volumeRow(typeId, { project_id: project, size });
      return row;
    };
    const rows = [before(defaultType!.id, 'p', 1), before(gold, 'p', 3), before(gold, 'q', 5)];
    await raw.insertInto('volumes').values(rows).execute();
    await raw
      .insertInto('snapshots')
      .values({ id: randomUUID(), volume_id: rows[1]!.id, project_id: 'p', user_id: 'u', status: 'available', progress: '100%', volume_size: 3, display_name: null, display_description: null, metadata: '{}', created_at: '2026-01-01T00:00:00.000000' })
      .execute();

    assert.ok((await migrate(handle.db)).includes('0004_quotas'));
    const usage = await (handle.db as Kysely<Database>).selectFrom('quota_usages').select(['project_id', 'resource', 'in_use']).orderBy('project_id').orderBy('resource').execute();
    assert.deepEqual(
      usage.map((u) => `${u.project_id} ${u.resource} ${Number(u.in_use)}`),
      [
        'p gigabytes 7',
        'p gigabytes___DEFAULT__ 1',
        'p gigabytes_gold 6',
        'p snapshots 1',
        'p snapshots_gold 1',
        'p volumes 2',
        'p volumes___DEFAULT__ 1',
        'p volumes_gold 1',
        'q gigabytes 5',
        'q gigabytes_gold 5',
        'q volumes 1',
        'q volumes_gold 1',
      ],
    );
  });
});
