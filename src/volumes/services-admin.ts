// os-services and get_pools for administrators: the storage hosts reporting in and the
// capacity they report, and taking one out of placement. What inventory.ts and the
// heartbeats wrote, behind the policy rules.

import { errors } from '../errors.js';
import { formatTimestamp } from '../db/schema.js';
import { WorkflowPart } from './core.js';
import { hostFilter, listServices } from './inventory.js';
import { poolHostOf } from './scheduler.js';
import type { PoolRecord, RequestContext, ServiceRecord } from './types.js';

export class ServicesAdmin extends WorkflowPart {
  async listServices(ctx: RequestContext, filters: { host?: string; binary?: string }): Promise<ServiceRecord[]> {
    this.authorize(ctx, 'volume_extension:services:index');
    return listServices(this.db, filters, this.options.serviceDownTimeMs);
  }

  async setServiceDisabled(ctx: RequestContext, req: { host: string; binary: string; disabled: boolean; reason?: string }): Promise<void> {
    this.authorize(ctx, 'volume_extension:services:update');
    const set: { disabled: number; disabled_reason?: string } = { disabled: req.disabled ? 1 : 0 };
    if (req.reason !== undefined) set.disabled_reason = req.reason;
    // Cinder's get_by_args: the name matches as os-services' host filter does, and the first service found is the one changed.
    const service = await this.db.selectFrom('services').select('host').where(hostFilter('host', req.host)).where('binary', '=', req.binary).orderBy('host').executeTakeFirst();
    const result = service && (await this.db.updateTable('services').set(set).where('host', '=', service.host).where('binary', '=', req.binary).executeTakeFirst());
    if (!result || Number(result.numUpdatedRows) === 0) throw errors.notFound(`Service ${req.binary} could not be found on host ${req.host}.`);
  }

  /**
   * Cinder's freeze_host: the storage host the name matches stops taking new volumes
   * (disabled, for the reason "frozen") and refuses deletes and snapshots until thawed.
   */
  async freezeHost(ctx: RequestContext, host: string): Promise<void> {
    this.authorize(ctx, 'volume_extension:services:update');
    this.authorize(ctx, 'volume:freeze_host');
    await this.changeFrozen(host, true, { disabled: 1, disabled_reason: 'frozen' });
  }

  /** Cinder's thaw_host: the storage host is back in scheduling, and its volumes may change again. */
  async thawHost(ctx: RequestContext, host: string): Promise<void> {
    this.authorize(ctx, 'volume_extension:services:update');
    this.authorize(ctx, 'volume:thaw_host');
    await this.changeFrozen(host, false, { disabled: 0, disabled_reason: '' });
  }

  /** Cinder's _replication_db_change for `frozen`: one storage host, changed only from the other state. */
  private async changeFrozen(host: string, frozen: boolean, set: { disabled: number; disabled_reason: string }): Promise<void> {
    const services = await this.db.selectFrom('services').select('host').where(hostFilter('host', host)).where('binary', '=', 'cinder-volume').execute();
    if (services.length === 0) throw errors.invalidInput(`No service found with host=${host}`);
    const target = services[0]!.host;
    if (services.some((service) => service.host !== target)) throw errors.badRequest('Services from different clusters found.');
    const changed = await this.db
      .updateTable('services')
      .set({ ...set, frozen: frozen ? 1 : 0 })
      .where('host', '=', target)
      .where('binary', '=', 'cinder-volume')
      .where('frozen', '=', frozen ? 0 : 1)
      .executeTakeFirst();
    if (Number(changed.numUpdatedRows) === 0) {
      const expected = frozen ? 'False' : 'True';
      throw errors.invalidInput(`No service could be changed: frozen in ['${target}'] must be ${expected} to failover.`);
    }
  }

  /**
   * Cinder's get_pools: the pools the scheduler may place volumes in, which are those of
   * the enabled, unfrozen storage hosts that are up and have said what they hold.
   */
  async getPools(ctx: RequestContext, filters: { name?: string }): Promise<PoolRecord[]> {
    this.authorize(ctx, 'scheduler_extension:scheduler_stats:get_pools');
    const rows = await this.db
      .selectFrom('services')
      .select(['host', 'capabilities'])
      .where('binary', '=', 'cinder-volume')
      .where('disabled', '=', 0)
      .where('frozen', '=', 0)
      .where('updated_at', '>=', formatTimestamp(Date.now() - this.options.serviceDownTimeMs))
      .where('capabilities', 'is not', null)
      .orderBy('host')
      .execute();
    return rows
      .map((row) => ({ name: poolHostOf(row.host), capabilities: JSON.parse(row.capabilities!) as Record<string, unknown> }))
      .filter((pool) => filters.name === undefined || pool.name === filters.name);
  }
}
