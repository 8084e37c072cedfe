import type { Kysely, Migration } from 'kysely';

/**
 * What each storage host reports of its backend with its heartbeat (Cinder's
 * capabilities, a JSON document), and Cinder's user messages, which tell a project why
 * a request failed after it was accepted (a volume no backend had room for).
 */
export const capabilities: Migration = {
  async up(db: Kysely<any>): Promise<void> {
    await db.schema.alterTable('services').addColumn('capabilities', 'text').execute();
    await db.schema
      .createTable('messages')
      .addColumn('id', 'varchar(36)', (c) => c.primaryKey())
      .addColumn('project_id', 'varchar(255)', (c) => c.notNull())
      .addColumn('request_id', 'varchar(255)', (c) => c.notNull())
      .addColumn('resource_type', 'varchar(36)')
      .addColumn('resource_uuid', 'varchar(36)')
      .addColumn('event_id', 'varchar(255)', (c) => c.notNull())
      .addColumn('action_id', 'varchar(10)', (c) => c.notNull())
      .addColumn('detail_id', 'varchar(10)', (c) => c.notNull())
      .addColumn('message_level', 'varchar(255)', (c) => c.notNull())
      .addColumn('created_at', 'varchar(32)', (c) => c.notNull())
      .addColumn('expires_at', 'varchar(32)', (c) => c.notNull())
      .execute();
    await db.schema.createIndex('messages_project_idx').on('messages').columns(['project_id', 'created_at']).execute();
    await db.schema.createIndex('messages_expires_idx').on('messages').column('expires_at').execute();
  },
  async down(db: Kysely<any>): Promise<void> {
    await db.schema.dropTable('messages').execute();
    await db.schema.alterTable('services').dropColumn('capabilities').execute();
  },
};
