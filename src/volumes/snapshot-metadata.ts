// A snapshot's user metadata: read, merge or replace, delete one key. The set is one JSON
// document in the snapshot's row, so each change is a compare-and-swap of that document:
// two callers adding different keys at once both keep theirs.

import { nowTimestamp, type SnapshotRow } from '../db/schema.js';
import { errors } from '../errors.js';
import { targetOf, WorkflowPart } from './core.js';
import { metadataOf } from './snapshots.js';
import type { RequestContext } from './types.js';

const ATTEMPTS = 5;

/** Cinder's utils.check_metadata_properties over the set as it would be saved. */
function checkMetadata(metadata: Record<string, unknown>): Record<string, string> {
  for (const [key, value] of Object.entries(metadata)) {
    if (key.length < 1) throw errors.badRequest(`Invalid metadata: Invalid input received: Metadata key: ${key} has 0 characters, less than 1.`);
    if (typeof value !== 'string') throw errors.badRequest(`Invalid metadata: Invalid input received: Value for metadata key: ${key} is not a string or unicode`);
    if (key.length > 255) throw errors.overLimit(`Invalid metadata size: Metadata property key ${key} greater than 255 characters.`);
    if (value.length > 255) throw errors.overLimit(`Invalid metadata size: Metadata property key ${key} value greater than 255 characters.`);
  }
  return metadata as Record<string, string>;
}

export class SnapshotMetadata extends WorkflowPart {
  async getSnapshotMetadata(ctx: RequestContext, id: string): Promise<Record<string, string>> {
    const row = await this.readable(ctx, id);
    return metadataOf(row);
  }

  async setSnapshotMetadata(ctx: RequestContext, id: string, metadata: Record<string, unknown>, how: 'merge' | 'replace'): Promise<Record<string, string>> {
    return this.change(ctx, id, 'volume:update_snapshot_metadata', (current) => checkMetadata(how === 'replace' ? metadata : { ...current, ...metadata }));
  }

  async deleteSnapshotMetadataKey(ctx: RequestContext, id: string, key: string): Promise<void> {
    await this.change(ctx, id, 'volume:delete_snapshot_metadata', (current) => {
      if (!Object.hasOwn(current, key)) throw errors.notFound(`Snapshot ${id} has no metadata with key ${key}.`);
      const { [key]: _gone, ...rest } = current;
      return rest;
    });
  }

  /** Cinder reads the snapshot (volume:get_snapshot) and its metadata (volume:get_snapshot_metadata) for each of these. */
  private async readable(ctx: RequestContext, id: string): Promise<SnapshotRow> {
    const row = await this.load.snapshotRow(ctx, id);
    this.authorize(ctx, 'volume:get_snapshot', targetOf(row));
    this.authorize(ctx, 'volume:get_snapshot_metadata', targetOf(row));
    return row;
  }

  private async change(
    ctx: RequestContext,
    id: string,
    rule: 'volume:update_snapshot_metadata' | 'volume:delete_snapshot_metadata',
    next: (current: Record<string, string>) => Record<string, string>,
  ): Promise<Record<string, string>> {
    for (let attempt = 0; attempt < ATTEMPTS; attempt++) {
      const row = await this.readable(ctx, id);
      this.authorize(ctx, rule, targetOf(row));
      const updated = next(metadataOf(row));
      const swapped = await this.db
        .updateTable('snapshots')
        .set({ metadata: JSON.stringify(updated), updated_at: nowTimestamp() })
        .where('id', '=', id)
        .where('metadata', '=', row.metadata)
        .executeTakeFirst();
      if (Number(swapped.numUpdatedRows) > 0) return updated;
    }
    throw errors.invalidSnapshot(`Snapshot ${id} metadata is changing too quickly; try again.`);
  }
}
