// Setting project default volume types (microversion 3.62): the type a project's new
// volumes get when their create names none, in place of the service's __DEFAULT__
// (volume-types.ts reads them). A type some project has as its default cannot be deleted.

import { nowTimestamp } from '../db/schema.js';
import { CinderError, errors } from '../errors.js';
import type { EnforcedRule } from '../policy/index.js';
import { WorkflowPart, type WorkflowCore } from './core.js';
import type { DefaultTypeRecord } from './type-management.js';
import type { RequestContext, VolumeTypeRecord } from './types.js';
import type { VolumeTypes } from './volume-types.js';

const notAuthorized = () => new CinderError('POLICY', 'You are not authorized to perform this operation.');

export class DefaultTypes extends WorkflowPart {
  constructor(
    core: WorkflowCore,
    private readonly types: VolumeTypes,
  ) {
    super(core);
  }

  /** Cinder's validate_project_and_authorize answers a refusal in words of its own, not the rule's. */
  private authorizeOnProject(ctx: RequestContext, rule: EnforcedRule, projectId: string): void {
    if (!this.allows(ctx, rule, { project_id: projectId })) throw notAuthorized();
  }

  async setDefaultType(ctx: RequestContext, projectId: string, typeIdOrName: string): Promise<DefaultTypeRecord> {
    this.authorizeOnProject(ctx, 'volume_extension:default_set_or_update', projectId);
    let type: VolumeTypeRecord;
    try {
      type = await this.types.resolveType(typeIdOrName, ctx);
    } catch (err) {
      // Cinder reports the missing type as a bad request here, in the not-found's words.
      if (err instanceof CinderError && err.status === 404) throw errors.badRequest(err.message);
      throw err;
    }
    await this.db
      .insertInto('default_volume_types')
      .values({ project_id: projectId, volume_type_id: type.id, created_at: nowTimestamp() })
      .onConflict((oc) => oc.column('project_id').doUpdateSet({ volume_type_id: type.id }))
      .execute();
    return { projectId, volumeTypeId: type.id };
  }

  async getDefaultType(ctx: RequestContext, projectId: string): Promise<DefaultTypeRecord> {
    this.authorizeOnProject(ctx, 'volume_extension:default_get', projectId);
    const row = await this.db.selectFrom('default_volume_types').select('volume_type_id').where('project_id', '=', projectId).executeTakeFirst();
    if (!row) throw errors.notFound(`Default type for project ${projectId} not found.`);
    return { projectId, volumeTypeId: row.volume_type_id };
  }

  async listDefaultTypes(ctx: RequestContext): Promise<DefaultTypeRecord[]> {
    if (!this.allows(ctx, 'volume_extension:default_get_all')) throw notAuthorized();
    const rows = await this.db.selectFrom('default_volume_types').select(['project_id', 'volume_type_id']).orderBy('created_at').orderBy('project_id').execute();
    return rows.map((row) => ({ projectId: row.project_id, volumeTypeId: row.volume_type_id }));
  }

  async unsetDefaultType(ctx: RequestContext, projectId: string): Promise<void> {
    this.authorizeOnProject(ctx, 'volume_extension:default_unset', projectId);
    await this.db.deleteFrom('default_volume_types').where('project_id', '=', projectId).execute();
  }
}
