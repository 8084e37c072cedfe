// One test suite, every dialect: a database test registers its tests once per engine
// with forEachDatabase, and each engine gets a fresh, uniquely named database for the
// test file, dropped afterwards. PostgreSQL is required in CI (CI=true): unreachable
// there is a failure. Elsewhere its suites are skipped with the reason shown.

import { randomBytes, randomUUID } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe } from 'node:test';
import pg from 'pg';
import { nowTimestamp, UNTOUCHED_VOLUME_COLUMNS, type NewVolumeRow } from '../../src/db/schema.js';
import { POSTGRES_ADMIN_URL } from './env.js';

export type DialectName = 'sqlite' | 'postgres';

export interface TestDatabase {
  name: DialectName;
  url: string;
  cleanup(): Promise<void>;
}

async function withAdmin<T>(work: (client: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: POSTGRES_ADMIN_URL, connectionTimeoutMillis: 3000 });
  await client.connect();
  try {
    return await work(client);
  } finally {
    await client.end();
  }
}

async function postgresProblem(): Promise<string | null> {
  try {
    await withAdmin((client) => client.query('select 1'));
    return null;
  } catch (err) {
    return `PostgreSQL at ${POSTGRES_ADMIN_URL} is not reachable: ${(err as Error).message}`;
  }
}

const pgProblem = await postgresProblem();
if (pgProblem && process.env.CI === 'true') throw new Error(`${pgProblem} (required in CI)`);

/** For a suite that runs on PostgreSQL only: why it is skipped here, or false. */
export const postgresSkip: string | false = pgProblem ?? false;

export async function createTestDatabase(name: DialectName): Promise<TestDatabase> {
  if (name === 'sqlite') {
    const dir = await mkdtemp(join(tmpdir(), 'cinderblock-db-'));
    return { name, url: join(dir, 'cinderblock.sqlite'), cleanup: () => rm(dir, { recursive: true, force: true }) };
  }
  const database = `cinderblock_test_${process.pid}_${randomBytes(4).toString('hex')}`;
  await withAdmin((client) => client.query(`create database ${database}`));
  const url = new URL(POSTGRES_ADMIN_URL);
  url.pathname = `/${database}`;
  return {
    name,
    url: url.toString(),
    cleanup: () => withAdmin((client) => client.query(`drop database if exists ${database} with (force)`)).then(() => undefined),
  };
}

/**
 * Registers `body`'s tests once per dialect, inside a describe named after it. `db()`
 * returns that dialect's database once the suite has started.
 */
export function forEachDatabase(title: string, body: (db: () => TestDatabase) => void): void {
  for (const name of ['sqlite', 'postgres'] as const) {
    const skip = name === 'postgres' && pgProblem ? pgProblem : false;
    describe(`${title} [${name}]`, { skip }, () => {
      let current: TestDatabase | null = null;
      before(async () => {
        current = await createTestDatabase(name);
      });
      after(async () => {
        await current?.cleanup();
      });
      body(() => {
        if (!current) throw new Error('database not created yet');
        return current;
      });
    });
  }
}

/**
 * A volume row with every column set, as a test that works below the workflow inserts it:
 * an available, detached 1 GiB volume of project "p", on the `__DEFAULT__` type unless told.
 */
export function volumeRow(volumeTypeId: string, overrides: Partial<NewVolumeRow> = {}): NewVolumeRow {
  return {
    ...UNTOUCHED_VOLUME_COLUMNS,
    id: randomUUID(),
    project_id: 'p',
    user_id: 'u',
    display_name: null,
    display_description: null,
    size: 1,
    status: 'available',
    attach_status: 'detached',
    availability_zone: 'nova',
    volume_type_id: volumeTypeId,
    multiattach: 0,
    host: null,
    created_at: nowTimestamp(),
    ...overrides,
  };
}
