import type { Kysely, Migration } from 'kysely';

/** Cinder's snapshots table, as much of it as the snapshot API shows; metadata is a JSON document. */
export const snapshots: Migration = {
  async up(db: Kysely<any>): Promise<void> {
    await db.schema
      .createTable('snapshots')
      .addColumn('id', 'varchar(36)', (c) => c.primaryKey())
      .addColumn('volume_id', 'varchar(36)', (c) => c.notNull())
      .addColumn('project_id', 'varchar(255)', (c) => c.notNull())
      .addColumn('user_id', 'varchar(255)', (c) => c.notNull())
      .addColumn('status', 'varchar(255)', (c) => c.notNull())
      .addColumn('progress', 'varchar(255)')
      .addColumn('volume_size', 'integer', (c) => c.notNull())
      .addColumn('display_name', 'varchar(255)')
      .addColumn('display_description', 'text')
      .addColumn('metadata', 'text', (c) => c.notNull())
      .addColumn('created_at', 'varchar(32)', (c) => c.notNull())
      .addColumn('updated_at', 'varchar(32)')
      .execute();
    await db.schema.createIndex('snapshots_volume_id').on('snapshots').column('volume_id').execute();
  },
  async down(db: Kysely<any>): Promise<void> {
    await db.schema.dropTable('snapshots').execute();
  },
};
