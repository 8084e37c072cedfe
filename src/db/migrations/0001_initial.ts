import { randomUUID } from 'node:crypto';
import type { Kysely, Migration } from 'kysely';
import { nowTimestamp } from '../schema.js';

export const DEFAULT_VOLUME_TYPE = '__DEFAULT__';

export const initial: Migration = {
  async up(db: Kysely<any>): Promise<void> {
    await db.schema
      .createTable('volume_types')
      .addColumn('id', 'varchar(36)', (c) => c.primaryKey())
      .addColumn('name', 'varchar(255)', (c) => c.notNull().unique())
      .addColumn('description', 'text')
      .addColumn('is_public', 'integer', (c) => c.notNull().defaultTo(1))
      .addColumn('created_at', 'varchar(32)', (c) => c.notNull())
      .execute();
    await db.schema
      .createTable('volume_type_extra_specs')
      .addColumn('volume_type_id', 'varchar(36)', (c) => c.notNull().references('volume_types.id').onDelete('cascade'))
      .addColumn('key', 'varchar(255)', (c) => c.notNull())
      .addColumn('value', 'text', (c) => c.notNull())
      .addPrimaryKeyConstraint('volume_type_extra_specs_pk', ['volume_type_id', 'key'])
      .execute();
    await db.schema
      .createTable('volumes')
      .addColumn('id', 'varchar(36)', (c) => c.primaryKey())
      .addColumn('project_id', 'varchar(255)', (c) => c.notNull())
      .addColumn('user_id', 'varchar(255)', (c) => c.notNull())
      .addColumn('display_name', 'varchar(255)')
      .addColumn('display_description', 'text')
      .addColumn('size', 'integer', (c) => c.notNull())
      .addColumn('status', 'varchar(32)', (c) => c.notNull())
      .addColumn('attach_status', 'varchar(32)', (c) => c.notNull())
      .addColumn('previous_status', 'varchar(32)')
      .addColumn('migration_status', 'varchar(32)')
      .addColumn('availability_zone', 'varchar(255)', (c) => c.notNull())
      .addColumn('volume_type_id', 'varchar(36)', (c) => c.notNull().references('volume_types.id'))
      .addColumn('multiattach', 'integer', (c) => c.notNull().defaultTo(0))
      .addColumn('bootable', 'integer', (c) => c.notNull().defaultTo(0))
      .addColumn('encrypted', 'integer', (c) => c.notNull().defaultTo(0))
      .addColumn('host', 'varchar(255)')
      .addColumn('snapshot_id', 'varchar(36)')
      .addColumn('source_volid', 'varchar(36)')
      .addColumn('group_id', 'varchar(36)')
      .addColumn('consistencygroup_id', 'varchar(36)')
      .addColumn('replication_status', 'varchar(32)')
      .addColumn('provider_location', 'text')
      .addColumn('provider_auth', 'text')
      .addColumn('created_at', 'varchar(32)', (c) => c.notNull())
      .addColumn('updated_at', 'varchar(32)')
      .execute();
    await db.schema.createIndex('volumes_project_idx').on('volumes').columns(['project_id', 'created_at']).execute();
    await db.schema
      .createTable('volume_attachment')
      .addColumn('id', 'varchar(36)', (c) => c.primaryKey())
      .addColumn('volume_id', 'varchar(36)', (c) => c.notNull())
      .addColumn('instance_uuid', 'varchar(36)')
      .addColumn('attached_host', 'varchar(255)')
      .addColumn('mountpoint', 'varchar(255)')
      .addColumn('attach_time', 'varchar(32)')
      .addColumn('detach_time', 'varchar(32)')
      .addColumn('attach_status', 'varchar(32)', (c) => c.notNull())
      .addColumn('attach_mode', 'varchar(8)', (c) => c.notNull())
      .addColumn('connector', 'text')
      .addColumn('connection_info', 'text')
      .addColumn('created_at', 'varchar(32)', (c) => c.notNull())
      .addColumn('updated_at', 'varchar(32)')
      .addColumn('deleted', 'integer', (c) => c.notNull().defaultTo(0))
      .addColumn('deleted_at', 'varchar(32)')
      .execute();
    await db.schema.createIndex('volume_attachment_volume_idx').on('volume_attachment').columns(['volume_id', 'deleted']).execute();
    await db.schema
      .createTable('volume_connections')
      .addColumn('volume_id', 'varchar(36)', (c) => c.notNull())
      .addColumn('initiator', 'varchar(255)', (c) => c.notNull())
      .addColumn('attachment_id', 'varchar(36)', (c) => c.notNull())
      .addColumn('read_only', 'integer', (c) => c.notNull())
      .addColumn('connector', 'text', (c) => c.notNull())
      .addColumn('created_at', 'varchar(32)', (c) => c.notNull())
      .addPrimaryKeyConstraint('volume_connections_pk', ['volume_id', 'initiator', 'attachment_id'])
      .execute();
    for (const table of ['volume_metadata', 'volume_admin_metadata']) {
      await db.schema
        .createTable(table)
        .addColumn('volume_id', 'varchar(36)', (c) => c.notNull())
        .addColumn('key', 'varchar(255)', (c) => c.notNull())
        .addColumn('value', 'varchar(255)', (c) => c.notNull())
        .addPrimaryKeyConstraint(`${table}_pk`, ['volume_id', 'key'])
        .execute();
    }
    await db.schema
      .createTable('service_state')
      .addColumn('key', 'varchar(255)', (c) => c.primaryKey())
      .addColumn('value', 'text', (c) => c.notNull())
      .execute();
    // Cinder creates its default type at db sync too; volumes without a type get it.
    await db
      .insertInto('volume_types')
      .values({ id: randomUUID(), name: DEFAULT_VOLUME_TYPE, description: 'Default Volume Type', is_public: 1, created_at: nowTimestamp() })
      .execute();
    await db.insertInto('service_state').values({ key: 'service_uuid', value: randomUUID() }).execute();
  },
  async down(db: Kysely<any>): Promise<void> {
    for (const table of [
      'service_state',
      'volume_admin_metadata',
      'volume_metadata',
      'volume_connections',
      'volume_attachment',
      'volumes',
      'volume_type_extra_specs',
      'volume_types',
    ]) {
      await db.schema.dropTable(table).execute();
    }
  },
};
