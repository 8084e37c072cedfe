import type { Kysely, Migration } from 'kysely';

/**
 * What Cinder keeps beside a volume type: the projects that may use a private type
 * (volume_type_projects), the type's encryption (one row per type; volumes of the type
 * report themselves encrypted) and the type a project's new volumes get when they name
 * none (default_volume_types, microversion 3.62).
 */
export const typeAccess: Migration = {
  async up(db: Kysely<any>): Promise<void> {
    await db.schema
      .createTable('volume_type_projects')
      .addColumn('volume_type_id', 'varchar(36)', (c) => c.notNull().references('volume_types.id').onDelete('cascade'))
      .addColumn('project_id', 'varchar(255)', (c) => c.notNull())
      .addColumn('created_at', 'varchar(32)', (c) => c.notNull())
      .addPrimaryKeyConstraint('volume_type_projects_pk', ['volume_type_id', 'project_id'])
      .execute();
    await db.schema
      .createTable('volume_type_encryption')
      .addColumn('volume_type_id', 'varchar(36)', (c) => c.primaryKey().references('volume_types.id').onDelete('cascade'))
      .addColumn('encryption_id', 'varchar(36)', (c) => c.notNull())
      .addColumn('provider', 'varchar(255)')
      .addColumn('cipher', 'varchar(255)')
      .addColumn('key_size', 'integer')
      .addColumn('control_location', 'varchar(255)')
      .addColumn('created_at', 'varchar(32)', (c) => c.notNull())
      .addColumn('updated_at', 'varchar(32)')
      .execute();
    await db.schema
      .createTable('default_volume_types')
      .addColumn('project_id', 'varchar(255)', (c) => c.primaryKey())
      .addColumn('volume_type_id', 'varchar(36)', (c) => c.notNull().references('volume_types.id'))
      .addColumn('created_at', 'varchar(32)', (c) => c.notNull())
      .execute();
    await db.schema.createIndex('default_volume_types_type_idx').on('default_volume_types').column('volume_type_id').execute();
  },
  async down(db: Kysely<any>): Promise<void> {
    await db.schema.dropTable('default_volume_types').execute();
    await db.schema.dropTable('volume_type_encryption').execute();
    await db.schema.dropTable('volume_type_projects').execute();
  },
};
