// The composition root: configuration in, running services out. Everything a service is
// made of is chosen here by name, so the layers below never pick each other.
//
// createApp is the all-in-one service. createApiApp and createVolumeService are the same
// parts split in two, for several API services in front of each storage host: they share
// a PostgreSQL database and reach each other over RabbitMQ.

import { mkdir } from 'node:fs/promises';
import { keystone, noauth, type Authentication } from './api/auth.js';
import { quotaDefaultsOf, type Config } from './config/config.js';
import { lockDataDir } from './data-dir-lock.js';
import { dialectOf, openDatabase, type DatabaseHandle } from './db/index.js';
import { KeyedLock, type KeyedLocks } from './db/keyed-lock.js';
import { AdvisoryLocks } from './db/postgres/advisory-lock.js';
import './backups/all.js';
import { createBackupDriver } from './backups/registry.js';
import './drivers/all.js';
import { createVolumeDriver } from './drivers/registry.js';
import { KeystoneAuthenticator } from './identity/authenticator.js';
import { KeystoneClient } from './identity/keystone-client.js';
import { reportCapabilities } from './manager/capabilities.js';
import { BackupCopier } from './manager/backups.js';
import { startHeartbeat } from './manager/heartbeat.js';
import { VolumeManager } from './manager/manager.js';
import type { Logger } from './observability/log.js';
import type { Metrics } from './observability/metrics.js';
import { AmqpVolumeRpc } from './rpc/amqp/client.js';
import { serveVolumeRpc, type VolumeRpcServer } from './rpc/amqp/server.js';
import { LocalVolumeRpc } from './rpc/local/index.js';
import type { VolumeRpc } from './rpc/rpc.js';
import './targets/all.js';
import { createTargetHelper } from './targets/registry.js';
import type { TargetHelper } from './targets/target.js';
import type { BlockStorage } from './volumes/service.js';
import { liveHostScheduler, poolHostOf, thisHost, volumeHostLookup, type VolumeScheduler } from './volumes/scheduler.js';
import { createWorkflow, type Workflow } from './volumes/workflow.js';
import { Policy } from './policy/index.js';

export interface App {
  config: Config;
  storage: BlockStorage;
  /** Cinder's rules, as the policy file (if any) overrides them. */
  policy: Policy;
  /** Who is calling, by the configured auth_strategy. */
  auth: Authentication;
  logger: Logger;
  close(): Promise<void>;
}

/** Cinder's default rules, or the operator's file over them; a file with mistakes stops the start. */
export function loadPolicy(config: Config, logger: Logger): Policy {
  if (!config.policyFile) return Policy.defaults();
  const { policy, warnings } = Policy.fromFile(config.policyFile);
  for (const warning of warnings) logger.warn({ policyFile: config.policyFile }, warning);
  return policy;
}

/** noauth, or Keystone with the service's own credentials and a token cache. */
function authenticationFor(config: Config, logger: Logger, metrics: Metrics | null, policy: Policy): Authentication {
  if (config.authStrategy === 'noauth') return noauth({ trustCallersAsService: config.noauthTrustsCallers });
  const client = new KeystoneClient(
    {
      url: config.keystoneUrl,
      user: config.keystoneUser,
      password: config.keystonePassword,
      project: config.keystoneProject,
      userDomain: config.keystoneUserDomain,
      projectDomain: config.keystoneProjectDomain,
      timeoutMs: config.keystoneTimeout * 1000,
    },
    logger.child({ component: 'keystone' }),
    metrics,
  );
  const authenticator = new KeystoneAuthenticator(
    client,
    {
      cacheTimeMs: config.tokenCacheTime * 1000,
      serviceTokenRoles: config.serviceTokenRoles,
      serviceTokenRolesRequired: config.serviceTokenRolesRequired,
    },
    metrics,
  );
  return keystone(authenticator, {
    // Cinder's context_is_admin decides is_admin, which other rules then read.
    isAdmin: ({ user }) =>
      policy.allows(
        'context_is_admin',
        { project_id: user.projectId, user_id: user.userId },
        { userId: user.userId, projectId: user.projectId, roles: user.roles, isAdmin: false, isAdminProject: user.isAdminProject, systemScope: user.systemScope },
      ),
    logger: logger.child({ component: 'auth' }),
  });
}

/** What each service reports to its metrics endpoint, when it has one. */
function metered(metrics: Metrics | null, rpc: VolumeRpc): VolumeRpc {
  return metrics ? metrics.meterRpc(rpc) : rpc;
}

/** This storage host in os-services: host@backend. */
function serviceHostOf(config: Config): string {
  return `${config.host}@${config.volumeBackendName || config.volumeDriver}`;
}

/** os-vol-host-attr:host of the volumes this storage host serves, and the name its RPC queue goes by. */
function volumeHostOf(config: Config): string {
  return poolHostOf(serviceHostOf(config));
}

function workflowFor(
  config: Config,
  database: DatabaseHandle,
  rpc: VolumeRpc,
  locks: KeyedLocks,
  scheduler: VolumeScheduler,
  policy: Policy,
  logger: Logger,
): Workflow {
  return createWorkflow(
    database.db,
    rpc,
    locks,
    {
      availabilityZone: config.availabilityZone,
      host: config.host,
      scheduler,
      serviceDownTimeMs: config.serviceDownTime * 1000,
      noauthTrustsCallers: config.noauthTrustsCallers,
      policy,
      quotaDefaults: quotaDefaultsOf(config),
    },
    logger.child({ component: 'volumes' }),
  );
}

/** The split services share state only through the database, so it must be one every host reaches. */
function requireSplitSettings(config: Config, command: string): void {
  if (!/^amqps?:\/\//.test(config.rpc)) {
    throw new Error(`the ${command} service reaches the other side over RabbitMQ: set rpc (--rpc) to an amqp:// URL`);
  }
  if (dialectOf(config.database) !== 'postgres') {
    throw new Error(`the ${command} service shares its database with the others: set database (--database) to a postgres:// URL`);
  }
}

/** The storage host's parts: driver, target and manager, with the database and data dir they own. */
interface StorageHost {
  database: DatabaseHandle;
  manager: VolumeManager;
  helper: TargetHelper;
  /** Starts reporting this host in os-services; stopped by close. */
  startHeartbeat(): Promise<void>;
  close(): Promise<void>;
}

async function startStorageHost(config: Config, logger: Logger, metrics: Metrics | null): Promise<StorageHost> {
  await mkdir(config.dataDir, { recursive: true });
  const unlockDataDir = lockDataDir(config.dataDir);
  let database: DatabaseHandle;
  try {
    database = await openDatabase(config.database);
  } catch (err) {
    unlockDataDir();
    throw err;
  }
  let helper: TargetHelper | null = null;
  let heartbeat: { stop(): Promise<void> } | null = null;
  const close = async () => {
    try {
      await heartbeat?.stop();
      await helper?.stop();
      await database.close();
    } finally {
      unlockDataDir();
    }
  };
  try {
    const driver = createVolumeDriver(config.volumeDriver, {
      dataDir: config.dataDir,
      maxOverSubscriptionRatio: config.maxOverSubscriptionRatio,
      reservedPercentage: config.reservedPercentage,
    });
    await driver.start();
    const backupStore = createBackupDriver(config.backupDriver, { dataDir: config.dataDir, path: config.backupPosixPath });
    await backupStore.start();
    helper = createTargetHelper(config.targetHelper, {
      dataDir: config.dataDir,
      iscsiListen: config.iscsiListen,
      extraPortals: config.targetPortals,
      logger: logger.child({ component: `target:${config.targetHelper}` }),
    });
    await helper.start();
    const target = helper;
    if (metrics && target.stats) metrics.watchTarget(() => target.stats!());
    const manager = new VolumeManager(
      database.db,
      driver,
      helper,
      {
        targetPrefix: config.targetPrefix,
        volumeHost: volumeHostOf(config),
        syncCommitted: database.syncCommitted,
        backups: new BackupCopier(backupStore),
      },
      logger.child({ component: 'manager' }),
    );
    const service = { binary: 'cinder-volume', host: serviceHostOf(config), zone: config.availabilityZone };
    const startBeating = async () => {
      const report = () => reportCapabilities(database.db, driver, volumeHostOf(config));
      heartbeat = await startHeartbeat(database.db, service, config.reportInterval * 1000, logger.child({ component: 'manager' }), report);
    };
    return { database, manager, helper, startHeartbeat: startBeating, close };
  } catch (err) {
    await close().catch(() => undefined);
    throw err;
  }
}

/**
 * This process places new volumes, which is Cinder's scheduler's job, so it reports in as
 * cinder-scheduler on its host (os-services, os-hosts), with no backend of its own.
 */
function startSchedulerHeartbeat(config: Config, database: DatabaseHandle, logger: Logger): Promise<{ stop(): Promise<void> }> {
  const service = { binary: 'cinder-scheduler', host: config.host, zone: config.availabilityZone };
  return startHeartbeat(database.db, service, config.reportInterval * 1000, logger.child({ component: 'scheduler' }), null);
}

/**
 * Start-up on the storage host: hosts attached before a restart get their disks back, and
 * creates and deletes a previous run left half done are finished.
 */
async function recover(config: Config, host: StorageHost, workflow: Workflow, logger: Logger): Promise<void> {
  await workflow.start();
  const exports = await host.manager.ensureExports();
  const resumed = await workflow.resumeInterrupted(volumeHostOf(config));
  await host.startHeartbeat();
  logger.info({ database: host.database.dialect, ...exports, ...resumed }, 'storage ready');
}

export async function createApp(config: Config, logger: Logger, metrics: Metrics | null = null): Promise<App> {
  if (config.rpc !== 'local') {
    throw new Error(`serve runs every part in one process, so rpc must be "local"; the api and volume commands use "${config.rpc}"`);
  }
  // Before anything starts: a policy file with mistakes is refused with nothing to undo.
  const policy = loadPolicy(config, logger);
  const host = await startStorageHost(config, logger, metrics);
  // The only process acting on its volumes: its own per-volume locks are enough.
  const rpc = metered(metrics, new LocalVolumeRpc(host.manager));
  const workflow = workflowFor(config, host.database, rpc, new KeyedLock(), thisHost(host.database.db, serviceHostOf(config)), policy, logger);
  metrics?.countStatuses(() => workflow.statusCounts());
  let heartbeat: { stop(): Promise<void> } | null = null;
  const close = async () => {
    await heartbeat?.stop();
    // Background steps finish first: a create must not lose its database mid-write.
    await workflow.drain();
    await host.close();
  };
  try {
    // Before the API answers anyone.
    await recover(config, host, workflow, logger);
    heartbeat = await startSchedulerHeartbeat(config, host.database, logger);
  } catch (err) {
    await close().catch(() => undefined);
    throw err;
  }
  return { config, storage: workflow, policy, auth: authenticationFor(config, logger, metrics, policy), logger, close };
}

/** The API's half: the workflow, sending the storage host's steps to its volume service. */
export async function createApiApp(config: Config, logger: Logger, metrics: Metrics | null = null): Promise<App> {
  requireSplitSettings(config, 'api');
  const policy = loadPolicy(config, logger);
  const database = await openDatabase(config.database);
  // Each volume's steps go to the storage host it was placed on.
  const rpc = new AmqpVolumeRpc(config.rpc, volumeHostLookup(database.db), config.rpcTimeout * 1000, logger.child({ component: 'rpc' }));
  // Other API services act on the same volumes: the per-volume lock must be the database's.
  const locks = new AdvisoryLocks(config.database);
  const scheduler = liveHostScheduler(database.db, config.serviceDownTime * 1000);
  const workflow = workflowFor(config, database, metered(metrics, rpc), locks, scheduler, policy, logger);
  metrics?.countStatuses(() => workflow.statusCounts());
  let heartbeat: { stop(): Promise<void> } | null = null;
  const close = async () => {
    await heartbeat?.stop();
    await workflow.drain();
    await rpc.close();
    await locks.close();
    await database.close();
  };
  try {
    await rpc.start();
    await workflow.start();
    heartbeat = await startSchedulerHeartbeat(config, database, logger);
  } catch (err) {
    await close().catch(() => undefined);
    throw err;
  }
  return { config, storage: workflow, policy, auth: authenticationFor(config, logger, metrics, policy), logger, close };
}

/** The storage host's half: driver, target and manager, answering the API services over RabbitMQ. */
export async function createVolumeService(config: Config, logger: Logger, metrics: Metrics | null = null): Promise<{ close(): Promise<void> }> {
  requireSplitSettings(config, 'volume');
  const host = await startStorageHost(config, logger, metrics);
  // Metered here, the steps' own durations; metered in the API services, with the trip through RabbitMQ.
  const local = metered(metrics, new LocalVolumeRpc(host.manager));
  // Used only at start, to finish what a previous run left half done, before any API service can
  // reach it. It serves no caller: Cinder's default rules are all it needs.
  const workflow = workflowFor(config, host.database, local, new KeyedLock(), thisHost(host.database.db, serviceHostOf(config)), Policy.defaults(), logger);
  let server: VolumeRpcServer | null = null;
  const close = async () => {
    await server?.close();
    await workflow.drain();
    await host.close();
  };
  try {
    await recover(config, host, workflow, logger);
    server = await serveVolumeRpc(config.rpc, volumeHostOf(config), local, logger.child({ component: 'rpc' }));
  } catch (err) {
    await close().catch(() => undefined);
    throw err;
  }
  return { close };
}
