import type { BackupDriver, BackupStoreContext } from './driver.js';

export type BackupDriverFactory = (ctx: BackupStoreContext) => BackupDriver;

const factories = new Map<string, BackupDriverFactory>();

export function registerBackupDriver(name: string, factory: BackupDriverFactory): void {
  factories.set(name, factory);
}

export function createBackupDriver(name: string, ctx: BackupStoreContext): BackupDriver {
  const factory = factories.get(name);
  if (!factory) throw new Error(`unknown backup driver "${name}" (known: ${[...factories.keys()].join(', ')})`);
  return factory(ctx);
}
