import type { Kysely, Migration } from 'kysely';

/**
 * Cinder's backups table, as much of it as the backup API shows and restore needs:
 * `service_metadata` names the backup's objects in the store, so an imported record with
 * a new id still finds the data; `volume_meta` is what a restore gives the volume back.
 */
export const backups: Migration = {
  async up(db: Kysely<any>): Promise<void> {
    await db.schema
      .createTable('backups')
      .addColumn('id', 'varchar(36)', (c) => c.primaryKey())
      .addColumn('volume_id', 'varchar(36)', (c) => c.notNull())
      .addColumn('snapshot_id', 'varchar(36)')
      .addColumn('project_id', 'varchar(255)', (c) => c.notNull())
      .addColumn('user_id', 'varchar(255)', (c) => c.notNull())
      .addColumn('status', 'varchar(255)', (c) => c.notNull())
      .addColumn('fail_reason', 'varchar(255)')
      .addColumn('display_name', 'varchar(255)')
      .addColumn('display_description', 'varchar(255)')
      .addColumn('availability_zone', 'varchar(255)')
      .addColumn('container', 'varchar(255)')
      .addColumn('service', 'varchar(255)')
      .addColumn('service_metadata', 'varchar(255)')
      .addColumn('size', 'integer', (c) => c.notNull())
      .addColumn('object_count', 'integer', (c) => c.notNull())
      .addColumn('parent_id', 'varchar(36)')
      .addColumn('num_dependent_backups', 'integer', (c) => c.notNull())
      .addColumn('restore_volume_id', 'varchar(36)')
      .addColumn('metadata', 'text', (c) => c.notNull())
      .addColumn('volume_meta', 'text', (c) => c.notNull())
      .addColumn('data_timestamp', 'varchar(32)')
      .addColumn('created_at', 'varchar(32)', (c) => c.notNull())
      .addColumn('updated_at', 'varchar(32)')
      .execute();
    await db.schema.createIndex('backups_project_idx').on('backups').columns(['project_id', 'created_at']).execute();
    await db.schema.createIndex('backups_volume_idx').on('backups').column('volume_id').execute();
    await db.schema.createIndex('backups_parent_idx').on('backups').column('parent_id').execute();
  },
  async down(db: Kysely<any>): Promise<void> {
    await db.schema.dropTable('backups').execute();
  },
};
