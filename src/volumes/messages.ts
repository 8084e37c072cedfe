// Cinder's user messages: what became of a request after it was accepted, told to its
// project in fixed words (never the error behind it, which may say more than a user
// should read). Recorded by the workflow, read through the messages API.

import { randomUUID } from 'node:crypto';
import type { Kysely } from 'kysely';
import type { Database, MessageRow } from '../db/schema.js';
import { formatTimestamp, nowTimestamp, parseTimestamp } from '../db/schema.js';
import { errors } from '../errors.js';
import { WorkflowPart } from './core.js';
import { messageSort, paginate } from './listing.js';
import { visibleTo } from './loading.js';
import type { ListQuery, MessageRecord, RequestContext } from './types.js';

/** Cinder's message_field: what was being done (Action) and what went wrong (Detail), by id. */
export const ACTIONS = {
  SCHEDULE_ALLOCATE_VOLUME: { id: '001', text: 'schedule allocate volume' },
  EXTEND_VOLUME: { id: '007', text: 'extend volume' },
  CREATE_VOLUME_FROM_BACKEND: { id: '008', text: 'create volume from backend storage' },
} as const;

export const DETAILS = {
  UNKNOWN_ERROR: { id: '001', text: 'An unknown error occurred.' },
  NO_BACKEND_AVAILABLE: { id: '003', text: 'Could not find any available weighted backend.' },
  DRIVER_FAILED_EXTEND: { id: '010', text: 'Volume Driver failed to extend volume.' },
  DRIVER_FAILED_CREATE: { id: '012', text: 'Driver failed to create the volume.' },
} as const;

type Field = { id: string; text: string };

/** Cinder's message_ttl default: a message is kept 30 days. */
const MESSAGE_TTL_MS = 2_592_000 * 1000;

/** The filters Cinder lets a project use on its messages (resource_filters.json). */
export const MESSAGE_FILTERS = ['resource_uuid', 'resource_type', 'event_id', 'request_id', 'message_level'] as const;

export interface NewMessage {
  action: Field;
  detail: Field;
  resourceUuid: string;
  /** The request's caller: its project reads the message, its request id ties the two. */
  ctx: Pick<RequestContext, 'projectId' | 'requestId'>;
}

/**
 * Writes a message about a volume, at ERROR level as Cinder's are. Expired messages go at
 * the same time (Cinder's scheduler clears them periodically; here nothing else runs).
 * A message that cannot be written is not the request's failure: the caller logs it.
 */
export async function recordMessage(db: Kysely<Database>, message: NewMessage): Promise<void> {
  const now = nowTimestamp();
  await db.deleteFrom('messages').where('expires_at', '<', now).execute();
  await db
    .insertInto('messages')
    .values({
      id: randomUUID(),
      project_id: message.ctx.projectId,
      request_id: message.ctx.requestId,
      resource_type: 'VOLUME',
      resource_uuid: message.resourceUuid,
      event_id: `VOLUME_VOLUME_${message.action.id}_${message.detail.id}`,
      action_id: message.action.id,
      detail_id: message.detail.id,
      message_level: 'ERROR',
      created_at: now,
      expires_at: formatTimestamp(Date.now() + MESSAGE_TTL_MS),
    })
    .execute();
}

function textOf(fields: Record<string, Field>, id: string): string | undefined {
  return Object.values(fields).find((field) => field.id === id)?.text;
}

/** Cinder builds the words when the message is read, from the ids stored: "<action>:<detail>". */
function messageRecord(row: MessageRow): MessageRecord {
  const action = textOf(ACTIONS, row.action_id) ?? 'unknown action';
  const detail = textOf(DETAILS, row.detail_id) ?? DETAILS.UNKNOWN_ERROR.text;
  return {
    id: row.id,
    projectId: row.project_id,
    eventId: row.event_id,
    userMessage: `${action}:${detail}`,
    level: row.message_level,
    resourceType: row.resource_type,
    resourceUuid: row.resource_uuid,
    requestId: row.request_id,
    createdAt: parseTimestamp(row.created_at)!,
    guaranteedUntil: parseTimestamp(row.expires_at)!,
  };
}

export class UserMessages extends WorkflowPart {
  /** A project's own messages; an administrator's list is every project's. */
  async listMessages(ctx: RequestContext, query: ListQuery): Promise<MessageRecord[]> {
    this.authorize(ctx, 'message:get_all');
    const sort = messageSort(query.sort);
    let select = this.db.selectFrom('messages').selectAll();
    if (!ctx.isAdmin) select = select.where('project_id', '=', ctx.projectId);
    for (const key of MESSAGE_FILTERS) {
      const value = query.filters[key];
      if (typeof value === 'string') select = select.where(key, '=', value);
    }
    for (const { column, dir } of sort) select = select.orderBy(column, dir);
    return paginate(await select.execute(), query).map(messageRecord);
  }

  async getMessage(ctx: RequestContext, id: string): Promise<MessageRecord> {
    const row = await this.visibleMessage(ctx, id);
    this.authorize(ctx, 'message:get', { project_id: row.project_id });
    return messageRecord(row);
  }

  async deleteMessage(ctx: RequestContext, id: string): Promise<void> {
    const row = await this.visibleMessage(ctx, id);
    this.authorize(ctx, 'message:delete', { project_id: row.project_id });
    await this.db.deleteFrom('messages').where('id', '=', id).execute();
  }

  /** Another project's message is not found, as Cinder's project_only read answers. */
  private async visibleMessage(ctx: RequestContext, id: string): Promise<MessageRow> {
    const row = await this.db.selectFrom('messages').selectAll().where('id', '=', id).executeTakeFirst();
    if (!visibleTo(ctx, row)) throw errors.notFound(`Message ${id} could not be found.`);
    return row;
  }
}
