import type { RequestContext } from '../volumes/types.js';
import { ApiFault } from './faults.js';

// Cinder's admin_api rules. Ownership rules (admin_or_owner) need the volume's
// project, which only the workflow has, so they are checked there.
export const ADMIN_RULES = {
  resetStatus: 'volume_extension:volume_admin_actions:reset_status',
  forceDetach: 'volume_extension:volume_admin_actions:force_detach',
  forceDelete: 'volume:force_delete',
  typeCreate: 'volume_extension:type_create',
  typeDelete: 'volume_extension:type_delete',
  extraSpecsCreate: 'volume_extension:types_extra_specs:create',
  extraSpecsDelete: 'volume_extension:types_extra_specs:delete',
} as const;

export function requireAdmin(ctx: RequestContext, rule: string): void {
  if (!ctx.isAdmin) throw new ApiFault(403, `Policy doesn't allow ${rule} to be performed.`);
}
