import type { TargetHelper, TargetHelperContext } from './target.js';

export type TargetHelperFactory = (ctx: TargetHelperContext) => TargetHelper;

const factories = new Map<string, TargetHelperFactory>();

export function registerTargetHelper(name: string, factory: TargetHelperFactory): void {
  factories.set(name, factory);
}

export function createTargetHelper(name: string, ctx: TargetHelperContext): TargetHelper {
  const factory = factories.get(name);
  if (!factory) throw new Error(`unknown target helper "${name}" (known: ${[...factories.keys()].join(', ')})`);
  return factory(ctx);
}

export function targetHelperNames(): string[] {
  return [...factories.keys()];
}
