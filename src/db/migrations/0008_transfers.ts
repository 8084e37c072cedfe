import type { Kysely, Migration } from 'kysely';

/**
 * Cinder's transfers table: a volume offered to another project, with the salted hash of
 * the key that accepts it (the key itself is never stored). A transfer's row goes when it
 * is accepted or deleted, so every row is a pending offer.
 */
export const transfers: Migration = {
  async up(db: Kysely<any>): Promise<void> {
    await db.schema
      .createTable('transfers')
      .addColumn('id', 'varchar(36)', (c) => c.primaryKey())
      .addColumn('volume_id', 'varchar(36)', (c) => c.notNull())
      .addColumn('display_name', 'varchar(255)')
      .addColumn('salt', 'varchar(255)', (c) => c.notNull())
      .addColumn('crypt_hash', 'varchar(255)', (c) => c.notNull())
      .addColumn('no_snapshots', 'integer', (c) => c.notNull().defaultTo(0))
      .addColumn('source_project_id', 'varchar(255)', (c) => c.notNull())
      .addColumn('created_at', 'varchar(32)', (c) => c.notNull())
      .execute();
    await db.schema.createIndex('transfers_volume_id').on('transfers').column('volume_id').execute();
  },
  async down(db: Kysely<any>): Promise<void> {
    await db.schema.dropTable('transfers').execute();
  },
};
