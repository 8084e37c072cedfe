import type { Kysely, Migration } from 'kysely';

/**
 * Cinder's QoS specs: a named set of limits for a consumer (front-end: the hypervisor
 * applies them; back-end: the target does; both), and the one set a volume type may
 * point at. Keys are rows of their own so one key is set or unset without rewriting the others.
 */
export const qosSpecs: Migration = {
  async up(db: Kysely<any>): Promise<void> {
    await db.schema
      .createTable('qos_specs')
      .addColumn('id', 'varchar(36)', (c) => c.primaryKey())
      .addColumn('name', 'varchar(255)', (c) => c.notNull().unique())
      .addColumn('consumer', 'varchar(16)', (c) => c.notNull())
      .addColumn('created_at', 'varchar(32)', (c) => c.notNull())
      .addColumn('updated_at', 'varchar(32)')
      .execute();
    await db.schema
      .createTable('qos_specs_keys')
      .addColumn('qos_specs_id', 'varchar(36)', (c) => c.notNull())
      .addColumn('key', 'varchar(255)', (c) => c.notNull())
      .addColumn('value', 'varchar(255)')
      .addPrimaryKeyConstraint('qos_specs_keys_pk', ['qos_specs_id', 'key'])
      .execute();
    await db.schema.alterTable('volume_types').addColumn('qos_specs_id', 'varchar(36)').execute();
  },
  async down(db: Kysely<any>): Promise<void> {
    await db.schema.alterTable('volume_types').dropColumn('qos_specs_id').execute();
    await db.schema.dropTable('qos_specs_keys').execute();
    await db.schema.dropTable('qos_specs').execute();
  },
};
