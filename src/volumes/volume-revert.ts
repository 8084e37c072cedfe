// Reverting a volume to its latest snapshot (the revert action, 3.40): the volume goes
// available -> reverting and the snapshot available -> restoring together, the storage host
// copies the snapshot's blocks back, and both return to available (the volume to error if
// the copy failed), as Cinder's volume manager does.

import type { Kysely } from 'kysely';
import type { Database, SnapshotRow } from '../db/schema.js';
import { nowTimestamp } from '../db/schema.js';
import { inTransaction } from '../db/prepared.js';
import { errors } from '../errors.js';
import { targetOf, WorkflowPart } from './core.js';
import type { RequestContext } from './types.js';

async function move(db: Kysely<Database>, table: 'volumes' | 'snapshots', id: string, from: string, to: string): Promise<boolean> {
  const moved = await db.updateTable(table).set({ status: to, updated_at: nowTimestamp() }).where('id', '=', id).where('status', '=', from).executeTakeFirst();
  return Number(moved.numUpdatedRows) > 0;
}

export class VolumeRevert extends WorkflowPart {
  async revertToSnapshot(ctx: RequestContext, volumeId: string, snapshotId: string | null): Promise<void> {
    const volume = await this.load.volumeRow(ctx, volumeId);
    const latest = await this.latestSnapshot(ctx, volumeId);
    if (!latest) throw errors.badRequest(`Volume ${volumeId} doesn't have any snapshots.`);
    if (snapshotId === null || snapshotId !== latest.id) {
      throw errors.badRequest(`Specified snapshot ${snapshotId ?? 'None'} is None or not the latest one of volume ${volumeId}.`);
    }
    const refusal = `Can't revert volume ${volumeId} to its latest snapshot ${latest.id}.`;
    if (volume.size !== latest.volume_size) throw errors.badRequest(`${refusal} The volume size must be equal to the snapshot size.`);
    this.authorize(ctx, 'volume:revert_to_snapshot', targetOf(volume));
    // Both moves commit together: unlike Cinder, a snapshot that is not available does not
    // leave the volume stuck in reverting.
    await inTransaction(this.db, async (trx) => {
      if (!(await move(trx, 'volumes', volumeId, 'available', 'reverting'))) {
        throw errors.conflict(`Invalid volume: ${refusal} Volume's status must be 'available'.`);
      }
      if (!(await move(trx, 'snapshots', latest.id, 'available', 'restoring'))) {
        throw errors.conflict(`Invalid snapshot: ${refusal} Snapshot's status must be 'available'.`);
      }
    });
    this.copyBack(volumeId, latest.id);
  }

  /** Start-up: a revert a previous run left half done is copied again from the start. */
  async resumeInterrupted(volumeHost: string): Promise<{ resumed: number }> {
    const rows = await this.db
      .selectFrom('volumes as v')
      .innerJoin('snapshots as s', 's.volume_id', 'v.id')
      .select(['v.id as volumeId', 's.id as snapshotId'])
      .where('v.status', '=', 'reverting')
      .where('s.status', '=', 'restoring')
      .where('v.host', '=', volumeHost)
      .execute();
    for (const row of rows) this.copyBack(row.volumeId, row.snapshotId);
    return { resumed: rows.length };
  }

  private copyBack(volumeId: string, snapshotId: string): void {
    this.machine.track(
      'revert_to_snapshot',
      volumeId,
      this.rpc.revertToSnapshot(volumeId, snapshotId).then(
        () => this.finish(volumeId, snapshotId, 'available'),
        (err) => {
          this.logger.error({ volumeId, snapshotId, err: (err as Error).message }, 'volume revert to snapshot failed');
          return this.finish(volumeId, snapshotId, 'error');
        },
      ),
    );
  }

  private async finish(volumeId: string, snapshotId: string, volumeStatus: 'available' | 'error'): Promise<void> {
    await inTransaction(this.db, async (trx) => {
      await move(trx, 'volumes', volumeId, 'reverting', volumeStatus);
      await move(trx, 'snapshots', snapshotId, 'restoring', 'available');
    });
  }

  /** Cinder's snapshot_get_latest_for_volume: the newest, among the caller's project's unless an administrator asks. */
  private async latestSnapshot(ctx: RequestContext, volumeId: string): Promise<SnapshotRow | undefined> {
    let q = this.db.selectFrom('snapshots').selectAll().where('volume_id', '=', volumeId);
    if (!ctx.isAdmin) q = q.where('project_id', '=', ctx.projectId);
    return q.orderBy('created_at', 'desc').orderBy('id', 'desc').limit(1).executeTakeFirst();
  }
}
