// The composition root: configuration in, a running BlockStorage out. Everything the
// service is made of is chosen here by name, so the layers below never pick each other.

import { mkdir } from 'node:fs/promises';
import type { Config } from './config/config.js';
import { lockDataDir } from './data-dir-lock.js';
import { openDatabase, type DatabaseHandle } from './db/index.js';
import './drivers/all.js';
import { createVolumeDriver } from './drivers/registry.js';
import { VolumeManager } from './manager/manager.js';
import type { Logger } from './observability/log.js';
import { LocalVolumeRpc } from './rpc/local/index.js';
import './targets/all.js';
import { createTargetHelper } from './targets/registry.js';
import type { TargetHelper } from './targets/target.js';
import type { BlockStorage } from './volumes/service.js';
import { Workflow } from './volumes/workflow.js';

export interface App {
  config: Config;
  storage: BlockStorage;
  logger: Logger;
  close(): Promise<void>;
}

export async function createApp(config: Config, logger: Logger): Promise<App> {
  if (config.rpc !== 'local') throw new Error(`rpc transport "${config.rpc}" is not available; use "local"`);
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
  let workflow: Workflow | null = null;
  const close = async () => {
    try {
      // Background steps finish first: a create must not lose its database mid-write.
      await workflow?.drain();
      await helper?.stop();
      await database.close();
    } finally {
      unlockDataDir();
    }
  };
  try {
    const driver = createVolumeDriver(config.volumeDriver, { dataDir: config.dataDir });
    await driver.start();
    helper = createTargetHelper(config.targetHelper, {
      dataDir: config.dataDir,
      iscsiListen: config.iscsiListen,
      extraPortals: config.targetPortals,
      logger: logger.child({ component: `target:${config.targetHelper}` }),
    });
    await helper.start();
    const volumeHost = `${config.host}@${driver.name}#${driver.name}`;
    const manager = new VolumeManager(
      database.db,
      driver,
      helper,
      { targetPrefix: config.targetPrefix, volumeHost, syncCommitted: database.syncCommitted },
      logger.child({ component: 'manager' }),
    );
    workflow = new Workflow(
      database.db,
      new LocalVolumeRpc(manager),
      {
        availabilityZone: config.availabilityZone,
        volumeHost,
        noauthTrustsCallers: config.noauthTrustsCallers,
      },
      logger.child({ component: 'volumes' }),
    );
    await workflow.start();
    // Hosts attached before a restart get their disks back before the API answers anyone.
    const exports = await manager.ensureExports();
    const resumed = await workflow.resumeInterrupted();
    logger.info({ database: database.dialect, ...exports, ...resumed }, 'storage ready');
  } catch (err) {
    await close().catch(() => undefined);
    throw err;
  }
  return { config, storage: workflow, logger, close };
}
