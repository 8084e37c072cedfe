// One-shot commands for operators: bring a database's schema up to date, and see what is
// there (storage hosts reporting in, volumes and attachments by status) without an API.

import { loadConfigFromOptions, type Config } from '../config/config.js';
import { migrate, openDatabase, type DatabaseHandle } from '../db/index.js';
import { redactUrlPassword } from '../observability/redact.js';
import { countStatuses, listServices } from '../volumes/inventory.js';

/** Runs `work` on the configured database; a failure names the database (password masked). */
async function withDatabase(config: Config, work: (handle: DatabaseHandle) => Promise<void>): Promise<void> {
  const handle = await openDatabase(config.database, { migrate: false });
  try {
    await work(handle);
  } catch (err) {
    throw new Error(`database ${redactUrlPassword(config.database)}: ${(err as Error).message}`);
  } finally {
    await handle.close();
  }
}

/** Applies the migrations the database lacks; services do the same at start, this does it ahead of them. */
export async function migrateCommand(opts: Record<string, string | undefined>): Promise<void> {
  const config = loadConfigFromOptions(opts);
  await withDatabase(config, async (handle) => {
    const applied = await migrate(handle.db);
    const where = `database ${redactUrlPassword(config.database)}`;
    process.stdout.write(applied.length ? `${where}: applied ${applied.join(', ')}\n` : `${where}: up to date, nothing to apply\n`);
  });
}

function counted(counts: Record<string, number>): string {
  const entries = Object.entries(counts).sort(([a], [b]) => (a < b ? -1 : 1));
  return entries.length ? entries.map(([status, n]) => `${status} ${n}`).join(', ') : 'none';
}

/** What an operator checks first: which storage hosts are up, and what state the volumes are in. */
export async function statusCommand(opts: Record<string, string | undefined>): Promise<void> {
  const config = loadConfigFromOptions(opts);
  await withDatabase(config, async (handle) => {
    const [services, counts] = await Promise.all([listServices(handle.db, { binary: 'cinder-volume' }, config.serviceDownTime * 1000), countStatuses(handle.db)]);
    const lines = [`database: ${redactUrlPassword(config.database)}`];
    if (services.length === 0) {
      lines.push('storage hosts: none has reported in');
    } else {
      lines.push(`storage hosts (up while their last heartbeat is under ${config.serviceDownTime} s old):`);
      for (const s of services) {
        const reason = s.disabledReason && s.disabled ? ` (${s.disabledReason})` : '';
        lines.push(`  ${s.host}  ${s.binary}  ${s.up ? 'up' : 'down'}  ${s.disabled ? 'disabled' : 'enabled'}${reason}  last heartbeat ${s.updatedAt.toISOString()}`);
      }
    }
    lines.push(`volumes: ${counted(counts.volumes)}`, `attachments: ${counted(counts.attachments)}`, '');
    process.stdout.write(lines.join('\n'));
  });
}
