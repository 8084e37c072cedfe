import type { ManageableEntry } from '../../volumes/manage.js';

/** Cinder's manageable_volumes and manageable_snapshots views; snapshots add where they came from. */
export function manageableView(entry: ManageableEntry, detail: boolean) {
  const snapshot = entry.sourceReference !== undefined ? { source_reference: entry.sourceReference } : {};
  if (!detail) return { reference: entry.reference, size: entry.size, safe_to_manage: entry.safeToManage, ...snapshot };
  return {
    reference: entry.reference,
    size: entry.size,
    safe_to_manage: entry.safeToManage,
    reason_not_safe: entry.reasonNotSafe,
    cinder_id: entry.cinderId,
    extra_info: entry.extraInfo,
    ...snapshot,
  };
}
