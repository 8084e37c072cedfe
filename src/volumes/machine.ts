// The volume state machine at work: each event of states.ts becomes one conditional
// UPDATE (compare-and-swap), an accepted event starts its backend work, and that work's
// outcome is the next event. Background work is tracked so shutdown can wait for it, and
// start-up resumes what a previous run left half done.

import { sql, type Kysely } from 'kysely';
import type { Logger } from 'pino';
import type { Database, VolumeUpdate } from '../db/schema.js';
import { nowTimestamp } from '../db/schema.js';
import { inTransaction, prepared } from '../db/prepared.js';
import { errors } from '../errors.js';
import type { VolumeRpc } from '../rpc/rpc.js';
import { Q } from './queries.js';
import { NOT_MIGRATING, RULES, allowedFrom, transition, type Effect, type VolumeEvent, type VolumeState } from './states.js';
import type { VolumeStatus } from './types.js';
import { extendUsage, volumeUsage } from './quota-resources.js';
import { returnUsage, typeNameOf } from './quota-usage.js';
import { deleteSnapshotRow } from './snapshots.js';

/** What the backend work needs beyond the volume: the size to make or extend to, and what to copy. */
export interface EffectArgs {
  size?: number;
  sourceVolid?: string | null;
  snapshotId?: string | null;
}

/** One event's conditional UPDATE, from its rule in states.ts: (db, updatedAt, volumeId). */
function transitionUpdate(event: VolumeEvent) {
  const rule = RULES[event];
  return prepared(2, (db: Kysely<Database>, updatedAt: string, id: string) => {
    const to = rule.to;
    let status;
    if (to.status === 'previous') status = sql<string>`coalesce(previous_status, 'available')`;
    else if (to.status === 'by_attachments')
      status = sql<string>`case when exists (select 1 from volume_attachment a where a.volume_id = volumes.id and a.deleted = 0 and a.attach_status != 'detached') then 'in-use' else 'available' end`;
    else status = to.status;
    const set: Record<string, unknown> = { status, updated_at: updatedAt };
    if ('attachStatus' in to && to.attachStatus) set['attach_status'] = to.attachStatus;
    if (rule.savePrevious) set['previous_status'] = sql`status`;
    return db
      .updateTable('volumes')
      .set(set as VolumeUpdate)
      .where('id', '=', id)
      .where((eb) => {
        const single = allowedFrom(rule, false);
        const multi = allowedFrom(rule, true);
        const conds = [
          single === multi
            ? eb('status', 'in', [...single])
            : eb.or([
                eb.and([eb('multiattach', '=', 0), eb('status', 'in', [...single])]),
                eb.and([eb('multiattach', '=', 1), eb('status', 'in', [...multi])]),
              ]),
        ];
        if (rule.attachStatusIn) conds.push(eb('attach_status', 'in', [...rule.attachStatusIn]));
        if (rule.attachStatusNot) conds.push(eb('attach_status', '!=', rule.attachStatusNot));
        if (rule.notMigrating) {
          const names = NOT_MIGRATING.filter((s): s is string => s !== null);
          conds.push(eb.or([eb('migration_status', 'is', null), eb('migration_status', 'in', names)]));
        }
        return eb.and(conds);
      });
  });
}
const TRANSITION_UPDATES = new Map((Object.keys(RULES) as VolumeEvent[]).map((event) => [event, transitionUpdate(event)]));

export class VolumeMachine {
  private readonly pending = new Set<Promise<void>>();

  constructor(
    private readonly db: Kysely<Database>,
    private readonly rpc: VolumeRpc,
    private readonly logger: Logger,
  ) {}

  async volumeState(id: string, db: Kysely<Database> = this.db): Promise<VolumeState | null> {
    const [row] = (await Q.state(db, id)).rows;
    if (!row) return null;
    return {
      id,
      status: row.status as VolumeStatus,
      attachStatus: row.attach_status as VolumeState['attachStatus'],
      multiattach: row.multiattach === 1,
      migrationStatus: row.migration_status,
      previousStatus: row.previous_status,
      liveAttachments: Number(row.live),
    };
  }

  /**
   * One event as one conditional UPDATE. When no row matches, the state read back
   * decides the answer: Cinder's error naming the actual state, or a silent no-op. If
   * the volume moved into an acceptable state meanwhile, the UPDATE is tried again.
   * Resolves to the backend work the move starts, or null when it was a no-op. `db` is a
   * transaction when the move is committed together with the step's other writes.
   */
  async apply(event: VolumeEvent, id: string, db: Kysely<Database> = this.db): Promise<readonly Effect[] | null> {
    const rule = RULES[event];
    const update = TRANSITION_UPDATES.get(event)!;
    for (let attempt = 0; attempt < 5; attempt++) {
      const result = await update(db, nowTimestamp(), id);
      if (Number(result.numAffectedRows) > 0) return rule.effects;
      const state = await this.volumeState(id, db);
      if (!state) throw errors.volumeNotFound(id);
      const outcome = transition(event, state);
      if (outcome.kind === 'rejected') throw outcome.error;
      if (outcome.kind === 'ignored') return null;
    }
    throw errors.invalidVolume(`Volume ${id} is changing state too quickly to ${event.replace(/_/g, ' ')}; try again.`);
  }

  /** Starts the backend work of an accepted event; its result moves the volume on. */
  runEffects(effects: readonly Effect[], id: string, args: EffectArgs): void {
    for (const effect of effects) {
      let work: Promise<void>;
      if (effect === 'create_volume') {
        const created = args.snapshotId
          ? this.rpc.createVolumeFromSnapshot(id, args.snapshotId, args.size!)
          : args.sourceVolid
            ? this.rpc.cloneVolume(id, args.sourceVolid, args.size!)
            : this.rpc.createVolume(id, args.size!);
        work = created.then(
          async () => {
            await this.apply('create_succeeded', id);
          },
          (err) => this.failed('create_failed', id, err, 'volume creation failed'),
        );
      } else if (effect === 'delete_volume') {
        work = this.deleteSnapshotsOf(id).then(() => this.rpc.deleteVolume(id)).then(
          () => this.forgetVolume(id),
          (err) => this.failed('delete_failed', id, err, 'volume deletion failed'),
        );
      } else {
        const size = args.size!;
        work = this.rpc.extendVolume(id, size).then(
          async () => {
            // The size follows the backend even if a detach moved the status meanwhile; the
            // gigabytes were counted when the extend began.
            await this.db.updateTable('volumes').set({ size, extending_to: null }).where('id', '=', id).execute();
            await this.apply('extend_succeeded', id);
          },
          (err) => {
            this.logger.error({ volumeId: id, err: (err as Error).message }, 'volume extend failed');
            return this.failExtend(id);
          },
        );
      }
      this.track(effect, id, work);
    }
  }

  /** A cascading delete's snapshots (marked deleting with their volume), before the volume goes. */
  private async deleteSnapshotsOf(volumeId: string): Promise<void> {
    const doomed = await this.db.selectFrom('snapshots').select('id').where('volume_id', '=', volumeId).where('status', '=', 'deleting').execute();
    for (const { id } of doomed) {
      await this.rpc.deleteSnapshot(volumeId, id);
      await deleteSnapshotRow(this.db, id);
    }
  }

  private async failed(event: VolumeEvent, id: string, err: unknown, what: string): Promise<void> {
    this.logger.error({ volumeId: id, err: (err as Error).message }, what);
    await this.apply(event, id);
  }

  /** An extend that will not finish: back to the state it left, giving back the gigabytes it took. */
  private async failExtend(id: string): Promise<void> {
    await inTransaction(this.db, async (trx) => {
      const row = await trx.selectFrom('volumes').select(['project_id', 'size', 'extending_to', 'volume_type_id']).where('id', '=', id).executeTakeFirst();
      if (row?.extending_to != null) {
        await returnUsage(trx, row.project_id, extendUsage(row.extending_to - row.size, await typeNameOf(trx, row.volume_type_id)));
        await trx.updateTable('volumes').set({ extending_to: null }).where('id', '=', id).execute();
      }
      await this.apply('extend_failed', id, trx);
    });
  }

  /** A deleted (or unmanaged) volume's rows go, and what it counted against its project's quotas comes back, in one commit. */
  async forgetVolume(id: string, status: 'deleting' | 'unmanaging' = 'deleting'): Promise<void> {
    await inTransaction(this.db, async (trx) => {
      const row = await trx
        .selectFrom('volumes')
        .select(['project_id', 'size', 'extending_to', 'volume_type_id'])
        .where('id', '=', id)
        .where('status', '=', status)
        .executeTakeFirst();
      if (!row) return;
      await trx.deleteFrom('volume_connections').where('volume_id', '=', id).execute();
      await trx.deleteFrom('volume_attachment').where('volume_id', '=', id).execute();
      await trx.deleteFrom('volume_metadata').where('volume_id', '=', id).execute();
      await trx.deleteFrom('volume_admin_metadata').where('volume_id', '=', id).execute();
      await trx.deleteFrom('volumes').where('id', '=', id).execute();
      // A volume deleted while extending (forced) holds the gigabytes of its target size.
      const counted = Math.max(row.size, row.extending_to ?? 0);
      await returnUsage(trx, row.project_id, volumeUsage(counted, await typeNameOf(trx, row.volume_type_id)));
    });
  }

  /** Background work the service waits for on shutdown (drain), whose failure is logged. */
  track(what: string, id: string, work: Promise<void>): void {
    const tracked = work.catch((err) => this.logger.error({ id, err: (err as Error).message }, `${what} did not finish`));
    this.pending.add(tracked);
    void tracked.finally(() => this.pending.delete(tracked));
  }

  /** Waits for every background step started so far (volume create, delete, extend). */
  async drain(): Promise<void> {
    while (this.pending.size > 0) await Promise.allSettled([...this.pending]);
  }

  /**
   * Start-up: steps a previous run left half done. A create or delete is repeated (the
   * driver's steps are idempotent); an extend whose target size was not recorded ends
   * in error_extending, as an interrupted extend does in Cinder.
   */
  async resumeInterrupted(volumeHost: string): Promise<{ resumed: number }> {
    const rows = await this.db
      .selectFrom('volumes')
      .select(['id', 'status', 'size', 'source_volid', 'snapshot_id'])
      .where('status', 'in', ['creating', 'deleting', 'extending'])
      .where('host', '=', volumeHost)
      .execute();
    for (const row of rows) {
      if (row.status === 'creating') {
        this.runEffects(['create_volume'], row.id, { size: row.size, sourceVolid: row.source_volid, snapshotId: row.snapshot_id });
      }
      else if (row.status === 'deleting') this.runEffects(['delete_volume'], row.id, {});
      else await this.failExtend(row.id);
    }
    return { resumed: rows.length };
  }
}
