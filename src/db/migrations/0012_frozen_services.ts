import type { Kysely, Migration } from 'kysely';

/**
 * A frozen storage host (Cinder's os-services freeze): its volumes and snapshots are
 * served but not deleted, and no new snapshot is taken there, until it is thawed.
 */
export const frozenServices: Migration = {
  async up(db: Kysely<any>): Promise<void> {
    await db.schema.alterTable('services').addColumn('frozen', 'integer', (c) => c.notNull().defaultTo(0)).execute();
  },
  async down(db: Kysely<any>): Promise<void> {
    await db.schema.alterTable('services').dropColumn('frozen').execute();
  },
};
