// Snapshot status actions: an administrator's reset, and the status reports of a snapshot
// being made or removed outside this service (Nova's assisted snapshots). The forced
// delete is a delete (snapshots.ts) that skips the status check.

import { nowTimestamp } from '../db/schema.js';
import { errors } from '../errors.js';
import { targetOf, WorkflowPart } from './core.js';
import type { RequestContext } from './types.js';

/** Cinder's SnapshotStatus.ALL, in its order (the refusal lists them). */
export const SNAPSHOT_STATUSES = [
  'error',
  'available',
  'creating',
  'deleting',
  'deleted',
  'updating',
  'error_deleting',
  'unmanaging',
  'backing-up',
  'restoring',
] as const;

/** os-update_snapshot_status: from each status, the statuses a report may move a snapshot to. */
const REPORTED_MOVES: Record<string, readonly string[]> = {
  creating: ['creating', 'available', 'error'],
  deleting: ['deleting', 'error_deleting'],
};

export class SnapshotActions extends WorkflowPart {
  async resetSnapshotStatus(ctx: RequestContext, id: string, status: string): Promise<void> {
    const wanted = status.toLowerCase();
    if (!(SNAPSHOT_STATUSES as readonly string[]).includes(wanted)) {
      const valid = `(${SNAPSHOT_STATUSES.map((s) => `'${s}'`).join(', ')})`;
      throw errors.badRequest(`Snapshot status: ${status} is invalid, valid statuses are: ${valid}.`);
    }
    const snapshot = await this.load.snapshotRow(ctx, id);
    this.authorize(ctx, 'volume_extension:snapshot_admin_actions:reset_status', targetOf(snapshot));
    // A reset is the administrator overriding whatever state the snapshot is in, so it has
    // no status to expect; a snapshot whose delete finished meanwhile stays gone.
    const reset = await this.db.updateTable('snapshots').set({ status: wanted, updated_at: nowTimestamp() }).where('id', '=', id).executeTakeFirst();
    if (Number(reset.numUpdatedRows) === 0) throw errors.snapshotNotFound(id);
  }

  async updateSnapshotStatus(ctx: RequestContext, id: string, req: { status: string; progress?: string }): Promise<void> {
    for (let attempt = 0; attempt < 5; attempt++) {
      const snapshot = await this.load.snapshotRow(ctx, id);
      this.authorize(ctx, 'snapshot_extension:snapshot_actions:update_snapshot_status', targetOf(snapshot));
      const allowed = REPORTED_MOVES[snapshot.status];
      if (!allowed) throw errors.badRequest(`Snapshot status ${snapshot.status} not allowed for update_snapshot_status`);
      if (!allowed.includes(req.status)) {
        throw errors.badRequest(`Provided snapshot status ${req.status} not allowed for snapshot with status ${snapshot.status}.`);
      }
      const moved = await this.db
        .updateTable('snapshots')
        .set({ status: req.status, updated_at: nowTimestamp(), ...(req.progress ? { progress: req.progress } : {}) })
        .where('id', '=', id)
        .where('status', '=', snapshot.status)
        .executeTakeFirst();
      if (Number(moved.numUpdatedRows) > 0) return;
      // Someone moved it first: decide again on the status it is in now.
    }
    throw errors.invalidSnapshot(`Snapshot ${id} is changing state too quickly to update its status; try again.`);
  }
}
