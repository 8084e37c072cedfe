import { mkdir } from 'node:fs/promises';
import { randomUUID } from 'node:crypto';
import type { FastifyInstance } from 'fastify';
import { loadConfig, parseHostPort, type Config } from '../config/config.js';
import { createLogger, flushLogger, type Logger } from '../observability/log.js';
import { createApp, type App } from '../app.js';
import { redactDatabaseUrl } from '../db/index.js';
import { buildApiServer } from '../api/server.js';

const FLAG_TO_SETTING: Record<string, keyof Config> = {
  dataDir: 'dataDir',
  apiListen: 'apiListen',
  iscsiListen: 'iscsiListen',
  targetHelper: 'targetHelper',
  database: 'database',
  logLevel: 'logLevel',
};

export async function serve(opts: Record<string, string | undefined>): Promise<void> {
  const flags: Partial<Record<keyof Config, unknown>> = {};
  for (const [flag, setting] of Object.entries(FLAG_TO_SETTING)) {
    if (opts[flag] !== undefined) flags[setting] = opts[flag];
  }
  const config = loadConfig(flags, process.env, opts.config ?? process.env.CINDERBLOCK_CONFIG);
  await mkdir(config.dataDir, { recursive: true });
  const logger = createLogger(config.logLevel);
  const { app, api } = await start(config, logger).catch(async (err: unknown) => {
    // The caller exits next; what was logged on the way must be written (or found unwritable) first.
    await flushLogger(logger);
    throw err;
  });

  let stopping = false;
  const stop = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    logger.info({ signal }, 'shutting down');
    try {
      await api.close();
      await app.close();
    } finally {
      await flushLogger(logger);
      process.exit(0);
    }
  };
  process.on('SIGINT', () => void stop('SIGINT'));
  process.on('SIGTERM', () => void stop('SIGTERM'));

  printBanner(config);
}

/** The service and its API, listening; nothing is left running if any part fails to start. */
async function start(config: Config, logger: Logger): Promise<{ app: App; api: FastifyInstance }> {
  const app = await createApp(config, logger);
  try {
    const api = await buildApiServer(app.storage, { config, logger });
    const { host, port } = parseHostPort(config.apiListen, 'api_listen');
    await api.listen({ host, port });
    return { app, api };
  } catch (err) {
    await app.close();
    throw err;
  }
}

function printBanner(config: Config): void {
  const endpoint = `http://${config.apiListen}/v3`;
  // Any hex project id works in noauth mode; a fresh one keeps sample commands from colliding.
  const project = randomUUID().replace(/-/g, '');
  const lines = [
    `cinderblock ready`,
    `  API:    ${endpoint}   (noauth: X-Auth-Token: <user>:<project>)`,
    `  iSCSI:  ${config.iscsiListen}   (target helper: ${config.targetHelper})`,
    `  data:   ${config.dataDir}`,
    `  database: ${redactDatabaseUrl(config.database)}`,
    ``,
    `Try:`,
    `  cinder --os-auth-type noauth --os-endpoint ${endpoint}/${project} --os-user-id admin --os-project-id ${project} --os-volume-api-version 3.70 create --name demo 1`,
    `  openstack --os-auth-type admin_token --os-token admin:${project} --os-endpoint ${endpoint}/${project} --os-volume-api-version 3.70 volume list`,
    ``,
  ];
  process.stdout.write(lines.join('\n'));
}
