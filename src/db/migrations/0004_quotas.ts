import { sql, type Kysely, type Migration } from 'kysely';

/**
 * Cinder's quota tables: a project's own limits (quotas), the limits of a quota class
 * (the "default" class stands in for every project without its own), and what each
 * project holds (quota_usages), which every create, extend and delete changes in the
 * same transaction as the rows it counts. An extend's target size is kept on the volume
 * while it runs, so a failed or interrupted extend gives back exactly what it took.
 * Usage starts as a count of the rows already there.
 */
export const quotas: Migration = {
  async up(db: Kysely<any>): Promise<void> {
    await db.schema
      .createTable('quotas')
      .addColumn('project_id', 'varchar(255)', (c) => c.notNull())
      .addColumn('resource', 'varchar(300)', (c) => c.notNull())
      .addColumn('hard_limit', 'integer', (c) => c.notNull())
      .addColumn('created_at', 'varchar(32)', (c) => c.notNull())
      .addColumn('updated_at', 'varchar(32)')
      .addPrimaryKeyConstraint('quotas_pk', ['project_id', 'resource'])
      .execute();
    await db.schema
      .createTable('quota_classes')
      .addColumn('class_name', 'varchar(255)', (c) => c.notNull())
      .addColumn('resource', 'varchar(300)', (c) => c.notNull())
      .addColumn('hard_limit', 'integer', (c) => c.notNull())
      .addColumn('created_at', 'varchar(32)', (c) => c.notNull())
      .addColumn('updated_at', 'varchar(32)')
      .addPrimaryKeyConstraint('quota_classes_pk', ['class_name', 'resource'])
      .execute();
    await db.schema
      .createTable('quota_usages')
      .addColumn('project_id', 'varchar(255)', (c) => c.notNull())
      .addColumn('resource', 'varchar(300)', (c) => c.notNull())
      .addColumn('in_use', 'integer', (c) => c.notNull())
      .addPrimaryKeyConstraint('quota_usages_pk', ['project_id', 'resource'])
      .execute();
    await db.schema.alterTable('volumes').addColumn('extending_to', 'integer').execute();

    const add = (select: ReturnType<typeof sql>) =>
      sql`insert into quota_usages (project_id, resource, in_use) ${select}
          on conflict (project_id, resource) do update set in_use = quota_usages.in_use + excluded.in_use`.execute(db);
    const typed = sql`volumes v join volume_types t on t.id = v.volume_type_id`;
    await add(sql`select project_id, 'volumes', count(*) from volumes group by project_id`);
    await add(sql`select project_id, 'gigabytes', sum(size) from volumes group by project_id`);
    await add(sql`select v.project_id, 'volumes_' || t.name, count(*) from ${typed} group by v.project_id, t.name`);
    await add(sql`select v.project_id, 'gigabytes_' || t.name, sum(v.size) from ${typed} group by v.project_id, t.name`);
    const snapshots = sql`snapshots s join volumes v on v.id = s.volume_id join volume_types t on t.id = v.volume_type_id`;
    await add(sql`select project_id, 'snapshots', count(*) from snapshots group by project_id`);
    await add(sql`select project_id, 'gigabytes', sum(volume_size) from snapshots group by project_id`);
    await add(sql`select s.project_id, 'snapshots_' || t.name, count(*) from ${snapshots} group by s.project_id, t.name`);
    await add(sql`select s.project_id, 'gigabytes_' || t.name, sum(s.volume_size) from ${snapshots} group by s.project_id, t.name`);
  },
  async down(db: Kysely<any>): Promise<void> {
    await db.schema.alterTable('volumes').dropColumn('extending_to').execute();
    await db.schema.dropTable('quota_usages').execute();
    await db.schema.dropTable('quota_classes').execute();
    await db.schema.dropTable('quotas').execute();
  },
};
