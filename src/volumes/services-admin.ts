// os-services for administrators: the storage hosts reporting in, and taking one out of
// placement. What inventory.ts reads, behind the policy rules.

import { errors } from '../errors.js';
import { WorkflowPart } from './core.js';
import { listServices } from './inventory.js';
import type { RequestContext, ServiceRecord } from './types.js';

export class ServicesAdmin extends WorkflowPart {
  async listServices(ctx: RequestContext, filters: { host?: string; binary?: string }): Promise<ServiceRecord[]> {
    this.authorize(ctx, 'volume_extension:services:index');
    return listServices(this.db, filters, this.options.serviceDownTimeMs);
  }

  async setServiceDisabled(ctx: RequestContext, req: { host: string; binary: string; disabled: boolean; reason?: string }): Promise<void> {
    this.authorize(ctx, 'volume_extension:services:update');
    const set: { disabled: number; disabled_reason?: string } = { disabled: req.disabled ? 1 : 0 };
    if (req.reason !== undefined) set.disabled_reason = req.reason;
    const result = await this.db.updateTable('services').set(set).where('host', '=', req.host).where('binary', '=', req.binary).executeTakeFirst();
    if (Number(result.numUpdatedRows) === 0) throw errors.notFound(`Service ${req.binary} could not be found on host ${req.host}.`);
  }
}
