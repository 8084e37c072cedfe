import type { Kysely, Migration } from 'kysely';

/** Cinder's services table, as much of it as os-services reports: who serves, and when it last said so. */
export const services: Migration = {
  async up(db: Kysely<any>): Promise<void> {
    await db.schema
      .createTable('services')
      .addColumn('binary', 'varchar(64)', (c) => c.notNull())
      .addColumn('host', 'varchar(255)', (c) => c.notNull())
      .addColumn('availability_zone', 'varchar(255)', (c) => c.notNull())
      .addColumn('disabled', 'integer', (c) => c.notNull().defaultTo(0))
      .addColumn('disabled_reason', 'varchar(255)')
      .addColumn('created_at', 'varchar(32)', (c) => c.notNull())
      .addColumn('updated_at', 'varchar(32)', (c) => c.notNull())
      .addPrimaryKeyConstraint('services_pk', ['binary', 'host'])
      .execute();
  },
  async down(db: Kysely<any>): Promise<void> {
    await db.schema.dropTable('services').execute();
  },
};
