import { mkdir } from 'node:fs/promises';
import { randomUUID } from 'node:crypto';
import type { FastifyInstance } from 'fastify';
import { loadConfigFromOptions, parseHostPort, type Config } from '../config/config.js';
import { createLogger, flushLogger, type Logger } from '../observability/log.js';
import { createApiApp, createApp, createVolumeService, type App } from '../app.js';
import { redactUrlPassword } from '../observability/redact.js';
import { buildApiServer } from '../api/server.js';
import { Metrics } from '../observability/metrics.js';
import type { Server } from 'node:http';

export type ServiceKind = 'serve' | 'api' | 'volume';

interface Running {
  close(): Promise<void>;
}

const STARTERS: Record<ServiceKind, (config: Config, logger: Logger, metrics: Metrics | null) => Promise<Running>> = {
  serve: async (config, logger, metrics) => withApi(config, logger, metrics, await createApp(config, logger, metrics)),
  api: async (config, logger, metrics) => withApi(config, logger, metrics, await createApiApp(config, logger, metrics)),
  volume: createVolumeService,
};

/** Runs one kind of service until SIGINT or SIGTERM. */
export async function runService(kind: ServiceKind, opts: Record<string, string | undefined>): Promise<void> {
  const config = loadConfigFromOptions(opts);
  if (kind !== 'api') await mkdir(config.dataDir, { recursive: true });
  const logger = createLogger(config.logLevel);
  const running = await start(kind, config, logger).catch(async (err: unknown) => {
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
      await running.close();
    } finally {
      await flushLogger(logger);
      process.exit(0);
    }
  };
  process.on('SIGINT', () => void stop('SIGINT'));
  process.on('SIGTERM', () => void stop('SIGTERM'));

  printBanner(kind, config);
}

/** The service and its metrics endpoint, if configured; nothing is left running if either fails to start. */
async function start(kind: ServiceKind, config: Config, logger: Logger): Promise<Running> {
  const metrics = config.metricsListen ? new Metrics() : null;
  const running = await STARTERS[kind](config, logger, metrics);
  if (!metrics) return running;
  let endpoint: Server;
  try {
    const { host, port } = parseHostPort(config.metricsListen, 'metrics_listen');
    endpoint = await metrics.listen(host, port);
  } catch (err) {
    await running.close();
    throw new Error(`cannot serve metrics on ${config.metricsListen}: ${(err as Error).message}`);
  }
  return {
    close: async () => {
      await new Promise<void>((resolve) => endpoint.close(() => resolve()));
      await running.close();
    },
  };
}

/** The API listening in front of `app`; nothing is left running if it fails to start. */
async function withApi(config: Config, logger: Logger, metrics: Metrics | null, app: App): Promise<Running> {
  let api: FastifyInstance;
  try {
    api = await buildApiServer(app.storage, { config, logger, auth: app.auth, policy: app.policy, observer: metrics });
    const { host, port } = parseHostPort(config.apiListen, 'api_listen');
    await api.listen({ host, port });
  } catch (err) {
    await app.close();
    throw err;
  }
  return {
    close: async () => {
      await api.close();
      await app.close();
    },
  };
}

function printBanner(kind: ServiceKind, config: Config): void {
  const endpoint = `http://${config.apiListen}/v3`;
  // Any hex project id works in noauth mode; a fresh one keeps sample commands from colliding.
  const project = randomUUID().replace(/-/g, '');
  const backend = config.volumeBackendName || config.volumeDriver;
  const storage = `${config.host}@${backend}#${backend}`;
  const lines = [`cinderblock ${kind === 'serve' ? '' : `${kind} service `}ready`];
  const keystone = config.authStrategy === 'keystone';
  const auth = keystone ? `keystone: tokens validated by ${config.keystoneUrl}` : 'noauth: X-Auth-Token: <user>:<project>';
  if (kind !== 'volume') lines.push(`  API:    ${endpoint}   (${auth})`);
  if (kind !== 'api') {
    lines.push(`  iSCSI:  ${config.iscsiListen}   (target helper: ${config.targetHelper})`, `  data:   ${config.dataDir}`);
  }
  lines.push(`  database: ${redactUrlPassword(config.database)}`);
  if (config.metricsListen) lines.push(`  metrics: http://${config.metricsListen}/metrics`);
  if (kind === 'volume') lines.push(`  storage host: ${storage}   (RPC: ${redactUrlPassword(config.rpc)})`);
  if (kind === 'api') lines.push(`  storage hosts: the volume services up in os-services   (RPC: ${redactUrlPassword(config.rpc)})`);
  if (kind !== 'volume' && keystone) {
    lines.push(``, `Try (with this service in your cloud's catalog):`, `  openstack --os-volume-api-version 3.70 volume list`);
  } else if (kind !== 'volume') {
    lines.push(
      ``,
      `Try:`,
      `  cinder --os-auth-type noauth --os-endpoint ${endpoint}/${project} --os-user-id admin --os-project-id ${project} --os-volume-api-version 3.70 create --name demo 1`,
      `  openstack --os-auth-type admin_token --os-token admin:${project} --os-endpoint ${endpoint}/${project} --os-volume-api-version 3.70 volume list`,
    );
  }
  lines.push(``);
  process.stdout.write(lines.join('\n'));
}
