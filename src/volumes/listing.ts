// List queries: Cinder's filter, sort and pagination rules over our columns.

import { sql, type ExpressionBuilder, type Expression, type SqlBool } from 'kysely';
import type { Database } from '../db/schema.js';
import { errors } from '../errors.js';
import type { ListQuery, RequestContext, SortKey } from './types.js';

type VolumeColumn = keyof Database['volumes'];
type AttachmentColumn = keyof Database['volume_attachment'];
type SnapshotColumn = keyof Database['snapshots'];

/** Filter keys (as the API passes them) and the column each one reads. */
const VOLUME_FILTERS: Record<string, VolumeColumn> = {
  id: 'id',
  name: 'display_name',
  display_name: 'display_name',
  description: 'display_description',
  display_description: 'display_description',
  status: 'status',
  bootable: 'bootable',
  size: 'size',
  availability_zone: 'availability_zone',
  migration_status: 'migration_status',
  group_id: 'group_id',
  created_at: 'created_at',
  updated_at: 'updated_at',
  project_id: 'project_id',
  user_id: 'user_id',
  volume_type_id: 'volume_type_id',
  multiattach: 'multiattach',
  attach_status: 'attach_status',
  host: 'host',
};

/** Filters a caller that is not an administrator may use (Cinder's resource_filters.json); others are dropped for them. */
export const USER_VOLUME_FILTERS: readonly string[] = [
  'name',
  'status',
  'metadata',
  'bootable',
  'migration_status',
  'availability_zone',
  'group_id',
  'size',
  'created_at',
  'updated_at',
  'consumes_quota',
];
export const USER_ATTACHMENT_FILTERS: readonly string[] = ['volume_id', 'status', 'instance_id', 'attach_status'];

// display_name is the column behind `name`; Cinder accepts both spellings from users.
const USER_VOLUME_FILTER_SET = new Set([...USER_VOLUME_FILTERS, 'display_name']);
const USER_ATTACHMENT_FILTER_SET = new Set(USER_ATTACHMENT_FILTERS);

const VOLUME_SORT: Record<string, VolumeColumn> = {
  id: 'id',
  name: 'display_name',
  display_name: 'display_name',
  description: 'display_description',
  created_at: 'created_at',
  updated_at: 'updated_at',
  size: 'size',
  status: 'status',
  availability_zone: 'availability_zone',
  bootable: 'bootable',
  volume_type_id: 'volume_type_id',
  project_id: 'project_id',
};

const ATTACHMENT_FILTERS: Record<string, AttachmentColumn> = {
  volume_id: 'volume_id',
  status: 'attach_status',
  attach_status: 'attach_status',
  instance_id: 'instance_uuid',
  instance_uuid: 'instance_uuid',
  id: 'id',
};

const ATTACHMENT_SORT: Record<string, AttachmentColumn> = {
  id: 'id',
  created_at: 'created_at',
  updated_at: 'updated_at',
  volume_id: 'volume_id',
  status: 'attach_status',
  attach_status: 'attach_status',
  instance_id: 'instance_uuid',
};

/** Any column of Cinder's snapshots table sorts a snapshot list. */
const SNAPSHOT_SORT: Record<string, SnapshotColumn> = {
  id: 'id',
  user_id: 'user_id',
  project_id: 'project_id',
  volume_id: 'volume_id',
  status: 'status',
  progress: 'progress',
  volume_size: 'volume_size',
  display_name: 'display_name',
  display_description: 'display_description',
  created_at: 'created_at',
  updated_at: 'updated_at',
};
/**
 * Snapshot filter keys (after the API turned `name` into display_name) and the columns they
 * read: the sort keys', and the snapshot's volume's host and availability_zone, as in Cinder.
 */
const SNAPSHOT_FILTERS: Record<string, SnapshotColumn | 'host' | 'availability_zone'> = {
  ...SNAPSHOT_SORT,
  host: 'host',
  availability_zone: 'availability_zone',
};
/** The columns of the snapshot's volume among SNAPSHOT_FILTERS. */
export const SNAPSHOT_VOLUME_COLUMNS: ReadonlySet<string> = new Set(['host', 'availability_zone']);

/** Cinder's resource_filters.json for snapshots: what a caller who is not an administrator may filter on. */
export const USER_SNAPSHOT_FILTERS: readonly string[] = ['name', 'status', 'volume_id', 'metadata', 'availability_zone'];
const USER_SNAPSHOT_FILTER_SET = new Set([...USER_SNAPSHOT_FILTERS, 'display_name']);

/** Columns Cinder's snapshots have and sort by that hold one value for every snapshot here: sorting by them changes nothing. */
const SNAPSHOT_UNIFORM_SORT = new Set([
  'use_quota',
  'cgsnapshot_id',
  'group_snapshot_id',
  'scheduled_at',
  'encryption_key_id',
  'provider_location',
  'provider_id',
  'provider_auth',
  'deleted',
  'deleted_at',
]);

const BOOL_TRUE = new Set(['true', 'True', 'TRUE', '1', 'ON', 'On', 'on', 'YES', 'Yes', 'yes', 'y', 't']);

export function boolish(value: unknown): boolean {
  return value === true || (typeof value === 'string' && BOOL_TRUE.has(value)) || value === 1;
}

const COMPARATORS: Record<string, string> = { gt: '>', gte: '>=', lt: '<', lte: '<=', eq: '=', neq: '!=' };

export interface CompiledFilters<C extends string> {
  /** An admin named a key nobody can filter on: Cinder answers with an empty list. */
  impossible: boolean;
  conditions: Array<{ column: C; op: string; value: unknown }>;
  metadata: Record<string, string>;
}

function normalise(column: string, value: unknown): unknown {
  if (column === 'bootable' || column === 'multiattach') return boolish(value) ? 1 : 0;
  if (column === 'size' || column === 'volume_size') return Number(value);
  if (column === 'created_at' || column === 'updated_at') {
    const date = new Date(String(value).endsWith('Z') ? String(value) : `${String(value)}Z`);
    if (Number.isNaN(date.getTime())) throw errors.invalidInput(`Invalid filter value ${String(value)} for ${column}.`);
    return date.toISOString().replace('Z', '');
  }
  return value === null ? null : String(value);
}

function compile<C extends string>(
  filters: Record<string, unknown>,
  columns: Record<string, C>,
  userAllowed: Set<string> | null,
  ctx: RequestContext,
): CompiledFilters<C> {
  const out: CompiledFilters<C> = { impossible: false, conditions: [], metadata: {} };
  for (const [rawKey, rawValue] of Object.entries(filters)) {
    if (rawValue === undefined) continue;
    const like = rawKey.endsWith('~');
    const key = like ? rawKey.slice(0, -1) : rawKey;
    if (!ctx.isAdmin && userAllowed && !userAllowed.has(key)) continue;
    if (key === 'consumes_quota') continue;
    if (key === 'metadata' && userAllowed) {
      const meta = typeof rawValue === 'string' ? (JSON.parse(rawValue) as Record<string, unknown>) : (rawValue as Record<string, unknown>);
      for (const [k, v] of Object.entries(meta ?? {})) out.metadata[k] = String(v);
      continue;
    }
    const column = columnNamed(columns, key);
    if (!column) {
      out.impossible = true;
      continue;
    }
    if (like) {
      out.conditions.push({ column, op: 'like', value: `%${String(rawValue)}%` });
      continue;
    }
    if ((key === 'created_at' || key === 'updated_at') && typeof rawValue === 'string') {
      for (const part of rawValue.split(',')) {
        const m = /^(gt|gte|lt|lte|eq|neq):(.*)$/.exec(part);
        out.conditions.push({ column, op: m ? COMPARATORS[m[1]!]! : '=', value: normalise(key, m ? m[2] : part) });
      }
      continue;
    }
    if (Array.isArray(rawValue)) {
      out.conditions.push({ column, op: 'in', value: rawValue.map((v) => normalise(column, v)) });
      continue;
    }
    const value = normalise(column, rawValue);
    out.conditions.push({ column, op: value === null ? 'is' : '=', value });
  }
  return out;
}

export function compileVolumeFilters(filters: Record<string, unknown>, ctx: RequestContext) {
  return compile(filters, VOLUME_FILTERS, USER_VOLUME_FILTER_SET, ctx);
}

export function compileAttachmentFilters(filters: Record<string, unknown>, ctx: RequestContext) {
  return compile(filters, ATTACHMENT_FILTERS, USER_ATTACHMENT_FILTER_SET, ctx);
}

export function compileSnapshotFilters(filters: Record<string, unknown>, ctx: RequestContext) {
  return compile(filters, SNAPSHOT_FILTERS, USER_SNAPSHOT_FILTER_SET, ctx);
}

export function conditionsExpression<DB, TB extends keyof DB>(
  eb: ExpressionBuilder<DB, TB>,
  prefix: string,
  conditions: Array<{ column: string; op: string; value: unknown }>,
): Expression<SqlBool> {
  return eb.and(
    conditions.map((c) => {
      const ref = sql.ref(`${prefix}.${c.column}`);
      if (c.op === 'in') {
        const values = c.value as unknown[];
        return values.length === 0 ? sql<SqlBool>`1 = 0` : sql<SqlBool>`${ref} in (${sql.join(values)})`;
      }
      if (c.op === 'is') return sql<SqlBool>`${ref} is null`;
      return sql<SqlBool>`${ref} ${sql.raw(c.op)} ${c.value}`;
    }),
  );
}

/** The column a wire name stands for; only the map's own names count, never `__proto__` or `constructor`. */
export function columnNamed<C extends string>(columns: Record<string, C>, name: string): C | undefined {
  return Object.hasOwn(columns, name) ? columns[name] : undefined;
}

/** Sort keys to columns of a table; an unknown key is Cinder's 400. */
export function sortColumns<C extends string>(sort: SortKey[], columns: Record<string, C>): Array<{ column: C; dir: 'asc' | 'desc' }> {
  const keys = sort.length > 0 ? sort : [{ key: 'created_at', dir: 'desc' as const }];
  const out = keys.map((s) => {
    const column = columnNamed(columns, s.key);
    if (!column) throw errors.invalidInput('Invalid sort key');
    return { column, dir: s.dir };
  });
  // Ties on the requested keys are broken by id, so a marker always names one position.
  if (!out.some((s) => s.column === ('id' as C))) out.push({ column: 'id' as C, dir: out[out.length - 1]!.dir });
  return out;
}

export function volumeSort(sort: SortKey[]) {
  return sortColumns(sort, VOLUME_SORT);
}

export function attachmentSort(sort: SortKey[]) {
  return sortColumns(sort, ATTACHMENT_SORT);
}

/** Cinder's order: the keys asked for, then created_at and id in the first key's direction. */
export function snapshotSort(sort: SortKey[]) {
  const dir = sort[0]?.dir ?? 'desc';
  const keys = sort.filter((s) => !SNAPSHOT_UNIFORM_SORT.has(s.key));
  for (const key of ['created_at', 'id']) if (!keys.some((s) => s.key === key)) keys.push({ key, dir });
  return sortColumns(keys, SNAPSHOT_SORT);
}

/** Any column of Cinder's messages table sorts its list; guaranteed_until is expires_at. */
const MESSAGE_SORT = {
  id: 'id',
  event_id: 'event_id',
  message_level: 'message_level',
  resource_type: 'resource_type',
  resource_uuid: 'resource_uuid',
  request_id: 'request_id',
  created_at: 'created_at',
  expires_at: 'expires_at',
  guaranteed_until: 'expires_at',
} as const;

export function messageSort(sort: SortKey[]) {
  return sortColumns(sort, MESSAGE_SORT);
}

/** marker, offset and limit over the ordered ids of every match. */
export function paginate<T extends { id: string }>(rows: T[], query: Pick<ListQuery, 'marker' | 'offset' | 'limit'>): T[] {
  let start = 0;
  if (query.marker !== undefined) {
    const index = rows.findIndex((r) => r.id === query.marker);
    if (index < 0) throw errors.notFound(`Marker ${query.marker} could not be found.`);
    start = index + 1;
  }
  start += query.offset ?? 0;
  const end = query.limit === undefined ? undefined : start + query.limit;
  return rows.slice(start, end);
}
