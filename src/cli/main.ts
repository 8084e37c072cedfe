#!/usr/bin/env node
import { Command } from 'commander';
import { serve } from './serve.js';

const program = new Command();
program.name('cinderblock').description('Block storage with the OpenStack Block Storage v3 API and its own iSCSI target');

program
  .command('serve')
  .description('run the API, the volume manager and the iSCSI target in one process')
  .option('--config <file>', 'JSON config file (CINDERBLOCK_CONFIG)')
  .option('--data-dir <dir>', 'where volumes and the SQLite database live (CINDERBLOCK_DATA_DIR)')
  .option('--api-listen <host:port>', 'Block Storage API address, default 127.0.0.1:8776 (CINDERBLOCK_API_LISTEN)')
  .option('--iscsi-listen <host:port>', 'iSCSI portal address, default 127.0.0.1:3260 (CINDERBLOCK_ISCSI_LISTEN)')
  .option('--target-helper <name>', 'builtin (default) or tgtadm (CINDERBLOCK_TARGET_HELPER)')
  .option('--database <url>', 'SQLite file path or postgres:// URL (CINDERBLOCK_DATABASE)')
  .option('--log-level <level>', 'pino log level (CINDERBLOCK_LOG_LEVEL)')
  .action(async (opts: Record<string, string | undefined>) => {
    await serve(opts);
  });

program.parseAsync(process.argv).catch((err: unknown) => {
  process.stderr.write(`cinderblock: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exit(1);
});
