import type { Kysely, Migration } from 'kysely';

/**
 * Cinder's generic volume groups: group types and their specs, groups (with the volume
 * types each may hold; a volume's membership is its group_id), and group snapshots, whose
 * members are ordinary snapshots marked with the group snapshot they belong to.
 */
export const groups: Migration = {
  async up(db: Kysely<any>): Promise<void> {
    await db.schema
      .createTable('group_types')
      .addColumn('id', 'varchar(36)', (c) => c.primaryKey())
      .addColumn('name', 'varchar(255)', (c) => c.notNull().unique())
      .addColumn('description', 'varchar(255)')
      .addColumn('is_public', 'integer', (c) => c.notNull())
      .addColumn('created_at', 'varchar(32)', (c) => c.notNull())
      .addColumn('updated_at', 'varchar(32)')
      .execute();
    await db.schema
      .createTable('group_type_specs')
      .addColumn('group_type_id', 'varchar(36)', (c) => c.notNull())
      .addColumn('key', 'varchar(255)', (c) => c.notNull())
      // Cinder's schema lets a spec be null, and its table keeps it so.
      .addColumn('value', 'varchar(255)')
      .addPrimaryKeyConstraint('group_type_specs_pk', ['group_type_id', 'key'])
      .execute();
    await db.schema
      .createTable('groups')
      .addColumn('id', 'varchar(36)', (c) => c.primaryKey())
      .addColumn('project_id', 'varchar(255)', (c) => c.notNull())
      .addColumn('user_id', 'varchar(255)', (c) => c.notNull())
      .addColumn('name', 'varchar(255)')
      .addColumn('description', 'varchar(255)')
      .addColumn('status', 'varchar(255)', (c) => c.notNull())
      .addColumn('availability_zone', 'varchar(255)', (c) => c.notNull())
      .addColumn('group_type_id', 'varchar(36)', (c) => c.notNull())
      .addColumn('group_snapshot_id', 'varchar(36)')
      .addColumn('source_group_id', 'varchar(36)')
      .addColumn('created_at', 'varchar(32)', (c) => c.notNull())
      .addColumn('updated_at', 'varchar(32)')
      .execute();
    await db.schema.createIndex('groups_project_idx').on('groups').columns(['project_id', 'created_at']).execute();
    await db.schema
      .createTable('group_volume_types')
      .addColumn('group_id', 'varchar(36)', (c) => c.notNull())
      .addColumn('volume_type_id', 'varchar(36)', (c) => c.notNull())
      .addPrimaryKeyConstraint('group_volume_types_pk', ['group_id', 'volume_type_id'])
      .execute();
    await db.schema
      .createTable('group_snapshots')
      .addColumn('id', 'varchar(36)', (c) => c.primaryKey())
      .addColumn('group_id', 'varchar(36)', (c) => c.notNull())
      .addColumn('project_id', 'varchar(255)', (c) => c.notNull())
      .addColumn('user_id', 'varchar(255)', (c) => c.notNull())
      .addColumn('name', 'varchar(255)')
      .addColumn('description', 'varchar(255)')
      .addColumn('status', 'varchar(255)', (c) => c.notNull())
      .addColumn('group_type_id', 'varchar(36)', (c) => c.notNull())
      .addColumn('created_at', 'varchar(32)', (c) => c.notNull())
      .addColumn('updated_at', 'varchar(32)')
      .execute();
    await db.schema.createIndex('group_snapshots_group_idx').on('group_snapshots').column('group_id').execute();
    await db.schema.alterTable('snapshots').addColumn('group_snapshot_id', 'varchar(36)').execute();
    await db.schema.createIndex('volumes_group_idx').on('volumes').column('group_id').execute();
  },
  async down(db: Kysely<any>): Promise<void> {
    await db.schema.dropIndex('volumes_group_idx').execute();
    await db.schema.alterTable('snapshots').dropColumn('group_snapshot_id').execute();
    for (const table of ['group_snapshots', 'group_volume_types', 'groups', 'group_type_specs', 'group_types']) {
      await db.schema.dropTable(table).execute();
    }
  },
};
