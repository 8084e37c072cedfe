import type { VolumeDriver, VolumeDriverContext } from './driver.js';

export type VolumeDriverFactory = (ctx: VolumeDriverContext) => VolumeDriver;

const factories = new Map<string, VolumeDriverFactory>();

export function registerVolumeDriver(name: string, factory: VolumeDriverFactory): void {
  factories.set(name, factory);
}

export function createVolumeDriver(name: string, ctx: VolumeDriverContext): VolumeDriver {
  const factory = factories.get(name);
  if (!factory) throw new Error(`unknown volume driver "${name}" (known: ${[...factories.keys()].join(', ')})`);
  return factory(ctx);
}
