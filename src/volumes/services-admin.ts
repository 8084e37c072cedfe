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
   * Cinder's get_pools: the pools the scheduler may place volumes in, which are those of
   * the enabled storage hosts that are up and have said what they hold.
   */
  async getPools(ctx: RequestContext, filters: { name?: string }): Promise<PoolRecord[]> {
    this.authorize(ctx, 'scheduler_extension:scheduler_stats:get_pools');
    const rows = await this.db
      .selectFrom('services')
      .select(['host', 'capabilities'])
      .where('binary', '=', 'cinder-volume')
      .where('disabled', '=', 0)
      .where('updated_at', '>=', formatTimestamp(Date.now() - this.options.serviceDownTimeMs))
      .where('capabilities', 'is not', null)
      .orderBy('host')
      .execute();
    return rows
      .map((row) => ({ name: poolHostOf(row.host), capabilities: JSON.parse(row.capabilities!) as Record<string, unknown> }))
      .filter((pool) => filters.name === undefined || pool.name === filters.name);
  }
}
