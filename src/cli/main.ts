#!/usr/bin/env node
import { Command } from 'commander';
import { migrateCommand, statusCommand } from './admin.js';
import { loadConfigFromOptions } from '../config/config.js';
import { policyCommand } from './policy.js';
import { runService, type ServiceKind } from './serve.js';

const program = new Command();
program.name('cinderblock').description('Block storage with the OpenStack Block Storage v3 API and its own iSCSI target');

const OPTIONS: Record<string, [flags: string, description: string, kinds: ServiceKind[]]> = {
  config: ['--config <file>', 'JSON config file (CINDERBLOCK_CONFIG)', ['serve', 'api', 'volume']],
  dataDir: ['--data-dir <dir>', 'where volumes and the SQLite database live (CINDERBLOCK_DATA_DIR)', ['serve', 'volume']],
  apiListen: ['--api-listen <host:port>', 'Block Storage API address, default 127.0.0.1:8776 (CINDERBLOCK_API_LISTEN)', ['serve', 'api']],
  iscsiListen: ['--iscsi-listen <host:port>', 'iSCSI portal address, default 127.0.0.1:3260 (CINDERBLOCK_ISCSI_LISTEN)', ['serve', 'volume']],
  targetHelper: ['--target-helper <name>', 'builtin (default) or tgtadm (CINDERBLOCK_TARGET_HELPER)', ['serve', 'volume']],
  maxOverSubscriptionRatio: ['--max-over-subscription-ratio <ratio>', 'how many times its capacity the backend may promise to thin volumes, default 20 (CINDERBLOCK_MAX_OVER_SUBSCRIPTION_RATIO)', ['serve', 'volume']],
  reservedPercentage: ['--reserved-percentage <percent>', 'percent of the backend kept free of volumes, default 0 (CINDERBLOCK_RESERVED_PERCENTAGE)', ['serve', 'volume']],
  database: ['--database <url>', 'SQLite file path or postgres:// URL (CINDERBLOCK_DATABASE)', ['serve', 'api', 'volume']],
  rpc: ['--rpc <amqp-url>', 'RabbitMQ between API and volume services, e.g. amqp://guest:guest@127.0.0.1:5672 (CINDERBLOCK_RPC)', ['api', 'volume']],
  volumeBackendName: ['--volume-backend-name <name>', 'this storage host\'s backend name, which volume types choose with volume_backend_name; default the driver\'s, file (CINDERBLOCK_VOLUME_BACKEND_NAME)', ['serve', 'volume']],
  host: ['--host <name>', 'name of this storage host, default this machine\'s hostname (CINDERBLOCK_HOST)', ['serve', 'volume']],
  metricsListen: ['--metrics-listen <host:port>', 'serve Prometheus metrics at GET /metrics there; off by default (CINDERBLOCK_METRICS_LISTEN)', ['serve', 'api', 'volume']],
  logLevel: ['--log-level <level>', 'pino log level (CINDERBLOCK_LOG_LEVEL)', ['serve', 'api', 'volume']],
  authStrategy: ['--auth-strategy <name>', 'noauth (default: every caller an administrator, loopback only) or keystone (CINDERBLOCK_AUTH_STRATEGY)', ['serve', 'api']],
  allowInsecureNoauth: ['--allow-insecure-noauth', 'let noauth listen on an address other than loopback (CINDERBLOCK_ALLOW_INSECURE_NOAUTH)', ['serve', 'api']],
  keystoneUrl: ['--keystone-url <url>', 'identity v3 endpoint that validates tokens, e.g. http://127.0.0.1:5000/v3 (CINDERBLOCK_KEYSTONE_URL)', ['serve', 'api']],
  keystoneUser: ['--keystone-user <name>', 'this service\'s user in Keystone, default cinder (CINDERBLOCK_KEYSTONE_USER)', ['serve', 'api']],
  keystonePasswordFile: ['--keystone-password-file <file>', 'file holding that user\'s password (CINDERBLOCK_KEYSTONE_PASSWORD_FILE, or the password itself in CINDERBLOCK_KEYSTONE_PASSWORD)', ['serve', 'api']],
  keystoneProject: ['--keystone-project <name>', 'that user\'s project, default service (CINDERBLOCK_KEYSTONE_PROJECT)', ['serve', 'api']],
  keystoneUserDomain: ['--keystone-user-domain <name>', 'the user\'s domain, default Default (CINDERBLOCK_KEYSTONE_USER_DOMAIN)', ['serve', 'api']],
  keystoneProjectDomain: ['--keystone-project-domain <name>', 'the project\'s domain, default Default (CINDERBLOCK_KEYSTONE_PROJECT_DOMAIN)', ['serve', 'api']],
  keystoneTimeout: ['--keystone-timeout <seconds>', 'wait for Keystone at most this long, then answer 503; default 5 (CINDERBLOCK_KEYSTONE_TIMEOUT)', ['serve', 'api']],
  tokenCacheTime: ['--token-cache-time <seconds>', 'trust a token\'s validation this long at most, default 300 (CINDERBLOCK_TOKEN_CACHE_TIME)', ['serve', 'api']],
  serviceTokenRoles: ['--service-token-roles <roles>', 'comma-separated roles that make a service token Nova\'s, default service (CINDERBLOCK_SERVICE_TOKEN_ROLES)', ['serve', 'api']],
  policyFile: ['--policy-file <file>', 'YAML or JSON oslo.policy rules overriding Cinder\'s defaults (CINDERBLOCK_POLICY_FILE); see cinderblock policy', ['serve', 'api']],
  serviceTokenRolesRequired: ['--service-token-roles-required <bool>', 'refuse a service token without those roles, default true (CINDERBLOCK_SERVICE_TOKEN_ROLES_REQUIRED)', ['serve', 'api']],
};

const COMMANDS: Record<ServiceKind, string> = {
  serve: 'run the API, the volume manager and the iSCSI target in one process',
  api: 'run only the Block Storage API; volume services do the storage steps (PostgreSQL and RabbitMQ)',
  volume: 'run only the storage host: volume manager, driver and iSCSI target, serving the API services over RabbitMQ',
};

for (const [kind, description] of Object.entries(COMMANDS) as Array<[ServiceKind, string]>) {
  const command = program.command(kind).description(description);
  for (const [flags, help, kinds] of Object.values(OPTIONS)) if (kinds.includes(kind)) command.option(flags, help);
  command.action(async (opts: Record<string, string | undefined>) => {
    await runService(kind, opts);
  });
}

const DATABASE_OPTIONS: Array<[string, string]> = [
  ['--config <file>', 'JSON config file (CINDERBLOCK_CONFIG)'],
  ['--data-dir <dir>', 'data dir whose SQLite database to use (CINDERBLOCK_DATA_DIR)'],
  ['--database <url>', 'SQLite file path or postgres:// URL (CINDERBLOCK_DATABASE)'],
];
const ADMIN: Array<[name: string, description: string, run: (opts: Record<string, string | undefined>) => Promise<void>]> = [
  ['migrate', 'bring the database schema up to date and exit (services also do it at start)', migrateCommand],
  ['status', 'print the storage hosts reporting in and the volumes and attachments by status, and exit', statusCommand],
];
for (const [name, description, run] of ADMIN) {
  const command = program.command(name).description(description);
  for (const [flags, help] of DATABASE_OPTIONS) command.option(flags, help);
  command.action(async (opts: Record<string, string | undefined>) => {
    await run(opts);
  });
}

program
  .command('policy')
  .description('print the policy in force (Cinder\'s defaults, or a policy file over them) as a policy file, and exit')
  .option('--config <file>', 'JSON config file (CINDERBLOCK_CONFIG)')
  .option('--policy-file <file>', 'the policy file to check and print (CINDERBLOCK_POLICY_FILE)')
  .action(async (opts: Record<string, string | undefined>) => {
    const { policyFile } = loadConfigFromOptions(opts);
    await policyCommand(policyFile ? { policyFile } : {});
  });

program.parseAsync(process.argv).catch((err: unknown) => {
  process.stderr.write(`cinderblock: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exit(1);
});
