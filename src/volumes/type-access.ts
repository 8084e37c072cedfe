// Which projects may use a private volume type. Administrators give and take access; a
// project without it does not see the type, and cannot make volumes of it.

import { nowTimestamp } from '../db/schema.js';
import { errors } from '../errors.js';
import { WorkflowPart, type WorkflowCore } from './core.js';
import type { TypeAccessRecord } from './type-management.js';
import type { RequestContext, VolumeTypeRecord } from './types.js';
import type { VolumeTypes } from './volume-types.js';

const NOT_FOR_PUBLIC_TYPES = 'Invalid volume type: Type access modification is not applicable to public volume type.';

export class TypeAccess extends WorkflowPart {
  constructor(
    core: WorkflowCore,
    private readonly types: VolumeTypes,
  ) {
    super(core);
  }

  private async privateType(typeId: string): Promise<VolumeTypeRecord> {
    const type = await this.types.typeRow(typeId);
    if (type.isPublic) throw errors.badRequest(NOT_FOR_PUBLIC_TYPES);
    return type;
  }

  async addTypeAccess(ctx: RequestContext, typeId: string, projectId: string): Promise<void> {
    this.authorize(ctx, 'volume_extension:volume_type_access:addProjectAccess');
    const type = await this.privateType(typeId);
    const added = await this.db
      .insertInto('volume_type_projects')
      .values({ volume_type_id: type.id, project_id: projectId, created_at: nowTimestamp() })
      .onConflict((oc) => oc.columns(['volume_type_id', 'project_id']).doNothing())
      .executeTakeFirst();
    if (Number(added.numInsertedOrUpdatedRows ?? 0n) === 0) {
      throw errors.conflict(`Volume type access for ${typeId} / ${projectId} combination already exists.`);
    }
  }

  async removeTypeAccess(ctx: RequestContext, typeId: string, projectId: string): Promise<void> {
    this.authorize(ctx, 'volume_extension:volume_type_access:removeProjectAccess');
    const type = await this.privateType(typeId);
    const removed = await this.db
      .deleteFrom('volume_type_projects')
      .where('volume_type_id', '=', type.id)
      .where('project_id', '=', projectId)
      .executeTakeFirst();
    if (Number(removed.numDeletedRows) === 0) {
      throw errors.notFound(`Volume type access not found for ${typeId} / ${projectId} combination.`);
    }
  }

  async listTypeAccess(ctx: RequestContext, typeId: string): Promise<TypeAccessRecord[]> {
    this.authorize(ctx, 'volume_extension:volume_type_access:get_all_for_type');
    const type = await this.types.typeRow(typeId, ctx);
    if (type.isPublic) throw errors.notFound('Access list not available for public volume types.');
    const rows = await this.db
      .selectFrom('volume_type_projects')
      .select('project_id')
      .where('volume_type_id', '=', type.id)
      .orderBy('created_at')
      .orderBy('project_id')
      .execute();
    return rows.map((row) => ({ volumeTypeId: type.id, projectId: row.project_id }));
  }
}
