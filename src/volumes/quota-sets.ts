// Cinder's quota administration: a project's quota set (with usage, its defaults), the
// default quota class, and the absolute limits a project sees. Enforcement is in
// quota-usage.ts, in the transactions that make and remove what is counted.

import { nowTimestamp } from '../db/schema.js';
import { inTransaction } from '../db/prepared.js';
import { errors } from '../errors.js';
import { WorkflowPart } from './core.js';
import { BASE_RESOURCES, DEFAULT_QUOTA_CLASS, TYPE_RESOURCE_PARTS } from './quota-resources.js';
import { classLimits, Limits, loadLimits, usageOf } from './quota-usage.js';
import type { QuotaUsage, RequestContext } from './types.js';

/** Keys a quota set may carry that are not resources (Cinder's NON_QUOTA_KEYS). */
const NON_QUOTA_KEYS = ['tenant_id', 'id'];
const MAX_LIMIT = 2 ** 31 - 1;

/** oslo's validate_integer: an integer or a string of one, within range; the message names the resource. */
function limitValue(resource: string, value: unknown): number {
  const text = typeof value === 'number' || typeof value === 'string' ? String(value).trim() : '';
  const number = /^[+-]?\d+$/.test(text) ? Number(text) : NaN;
  if (!Number.isSafeInteger(number)) throw errors.badRequest(`${resource} must be an integer`);
  if (number < -1) throw errors.badRequest(`${resource} must be >= -1`);
  if (number > MAX_LIMIT) throw errors.badRequest(`${resource} must be <= ${MAX_LIMIT}`);
  return number;
}

export class QuotaSets extends WorkflowPart {
  /** Every resource a project has: Cinder's base ones and three per volume type. */
  private async resourceNames(): Promise<string[]> {
    const types = await this.db.selectFrom('volume_types').select('name').orderBy('name').execute();
    return [...BASE_RESOURCES, ...types.flatMap((t) => TYPE_RESOURCE_PARTS.map((part) => `${part}_${t.name}`))];
  }

  async getQuotaSet(ctx: RequestContext, projectId: string, withUsage: boolean): Promise<Record<string, number | QuotaUsage>> {
    this.authorize(ctx, 'volume_extension:quotas:show', { project_id: projectId });
    const [names, limits] = await Promise.all([this.resourceNames(), loadLimits(this.db, projectId, this.options.quotaDefaults)]);
    if (!withUsage) return Object.fromEntries(names.map((name) => [name, limits.of(name)]));
    const usage = await usageOf(this.db, projectId);
    return Object.fromEntries(names.map((name) => [name, { limit: limits.of(name), in_use: usage.get(name) ?? 0, reserved: 0 }]));
  }

  /** What a project without limits of its own has: the default class's, else the configured ones. */
  async getQuotaDefaults(ctx: RequestContext, projectId: string): Promise<Record<string, number>> {
    this.authorize(ctx, 'volume_extension:quotas:show', { project_id: projectId });
    const [names, byClass] = await Promise.all([this.resourceNames(), classLimits(this.db, DEFAULT_QUOTA_CLASS)]);
    const defaults = new Limits(new Map(), byClass, this.options.quotaDefaults);
    return Object.fromEntries(names.map((name) => [name, defaults.of(name)]));
  }

  /**
   * Sets some of a project's limits. Unlike Cinder, which compares only limits the
   * project already had of its own, every new limit (but -1 and per_volume_gigabytes)
   * must hold what the project already uses.
   */
  async updateQuotaSet(ctx: RequestContext, projectId: string, values: Record<string, unknown>): Promise<Record<string, number>> {
    this.authorize(ctx, 'volume_extension:quotas:update', { project_id: projectId });
    if (projectId.length > 255) throw errors.invalidInput('quota_set_name has more than 255 characters.');
    const names = await this.resourceNames();
    const wanted = this.checkedLimits(values, names, 'quota set');
    await inTransaction(this.db, async (trx) => {
      const usage = await usageOf(trx, projectId);
      for (const [resource, limit] of wanted) {
        const used = usage.get(resource) ?? 0;
        if (resource !== 'per_volume_gigabytes' && limit !== -1 && limit < used) {
          throw errors.badRequest(
            `Quota ${resource} limit must be equal or greater than existing resources. Current usage is ${used} and the requested limit is ${limit}.`,
          );
        }
        const now = nowTimestamp();
        await trx
          .insertInto('quotas')
          .values({ project_id: projectId, resource, hard_limit: limit, created_at: now, updated_at: null })
          .onConflict((oc) => oc.columns(['project_id', 'resource']).doUpdateSet({ hard_limit: limit, updated_at: now }))
          .execute();
      }
    });
    const limits = await loadLimits(this.db, projectId, this.options.quotaDefaults);
    return Object.fromEntries(names.map((name) => [name, limits.of(name)]));
  }

  /** Back to the defaults: the project's own limits go; what it uses stays counted. */
  async deleteQuotaSet(ctx: RequestContext, projectId: string): Promise<void> {
    this.authorize(ctx, 'volume_extension:quotas:delete', { project_id: projectId });
    await this.db.deleteFrom('quotas').where('project_id', '=', projectId).execute();
  }

  async getQuotaClassSet(ctx: RequestContext, className: string): Promise<Record<string, number>> {
    this.authorize(ctx, 'volume_extension:quota_classes:get');
    return this.classSet(className);
  }

  async updateQuotaClassSet(ctx: RequestContext, className: string, values: Record<string, unknown>): Promise<Record<string, number>> {
    this.authorize(ctx, 'volume_extension:quota_classes:update');
    if (className.length < 1 || className.length > 255) throw errors.invalidInput('quota_class_name must be 1 to 255 characters.');
    const wanted = this.checkedLimits(values, await this.resourceNames(), 'quota class set');
    await inTransaction(this.db, async (trx) => {
      for (const [resource, limit] of wanted) {
        const now = nowTimestamp();
        await trx
          .insertInto('quota_classes')
          .values({ class_name: className, resource, hard_limit: limit, created_at: now, updated_at: null })
          .onConflict((oc) => oc.columns(['class_name', 'resource']).doUpdateSet({ hard_limit: limit, updated_at: now }))
          .execute();
      }
    });
    return this.classSet(className);
  }

  /**
   * The absolute limits of the caller's project, or (an administrator's ?project_id) of
   * another; `used` only where limits_extension:used_limits allows.
   */
  async getLimits(
    ctx: RequestContext,
    requestedProject: string | null,
  ): Promise<{ limits: Record<string, number>; used: Record<string, number> | null }> {
    const projectId = ctx.isAdmin && requestedProject ? requestedProject : ctx.projectId;
    const limits = await loadLimits(this.db, projectId, this.options.quotaDefaults);
    const resources = ['volumes', 'gigabytes', 'snapshots', 'backups', 'backup_gigabytes'];
    const used = this.allows(ctx, 'limits_extension:used_limits') ? await usageOf(this.db, projectId) : null;
    return {
      limits: Object.fromEntries(resources.map((r) => [r, limits.of(r)])),
      used: used && Object.fromEntries(resources.map((r) => [r, used.get(r) ?? 0])),
    };
  }

  private async classSet(className: string): Promise<Record<string, number>> {
    const [names, byClass] = await Promise.all([this.resourceNames(), classLimits(this.db, className)]);
    // A class without a limit of its own on a resource has the default class's, then the configured one.
    const fallback = className === DEFAULT_QUOTA_CLASS ? new Map<string, number>() : await classLimits(this.db, DEFAULT_QUOTA_CLASS);
    const limits = new Limits(byClass, fallback, this.options.quotaDefaults);
    return Object.fromEntries(names.map((name) => [name, limits.of(name)]));
  }

  /** Cinder's checks of a quota (class) set's keys and values: every key a resource, every value a limit. */
  private checkedLimits(values: Record<string, unknown>, names: string[], what: string): Array<[string, number]> {
    const known = new Set(names);
    const bad = Object.keys(values).filter((key) => !known.has(key) && !(what === 'quota set' && NON_QUOTA_KEYS.includes(key)));
    if (bad.length > 0) throw errors.invalidInput(`Bad key(s) in ${what}: ${bad.join(', ')}`);
    return Object.entries(values)
      .filter(([key]) => known.has(key))
      .map(([key, value]) => [key, limitValue(key, value)]);
  }
}
