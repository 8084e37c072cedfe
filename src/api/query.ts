import type { ListQuery, RequestContext, SortKey } from '../volumes/types.js';
import { USER_ATTACHMENT_FILTERS, USER_SNAPSHOT_FILTERS, USER_VOLUME_FILTERS } from '../volumes/listing.js';
import { MESSAGE_FILTERS } from '../volumes/messages.js';
import type { TransferListQuery } from '../volumes/transfers.js';
import type { ManageableQuery } from '../volumes/manage.js';
import { ApiFault } from './faults.js';
import type { ApiVersion } from './microversion.js';
import { parseBoolParam } from './validation.js';

// List parameters as Cinder's API reads them. Filter keys go to the workflow under
// their wire names; what depends on the microversion is decided here.

export type QueryParams = Record<string, string | string[] | undefined>;

/** A query parameter as one string (the last, if repeated, as webob's req.GET reads it). */
export function single(query: QueryParams, name: string): string | undefined {
  const value = query[name];
  return Array.isArray(value) ? value[value.length - 1] : value;
}

/** Cinder's osapi_max_limit: the page size when none is asked for, and the cap. */
export const MAX_LIMIT = 1000;


const TIME_FILTERS = ['created_at', 'updated_at'];
const TIME_OPERATORS = ['gt', 'gte', 'eq', 'neq', 'lt', 'lte'];
const BOOLEAN_FILTERS = ['bootable', 'multiattach', 'consumes_quota'];

function flatten(params: QueryParams): Map<string, string> {
  const out = new Map<string, string>();
  for (const [key, value] of Object.entries(params)) {
    if (value === undefined) continue;
    // webob's MultiDict-to-dict keeps the last occurrence.
    out.set(key, Array.isArray(value) ? value[value.length - 1]! : value);
  }
  return out;
}

function integerParam(params: Map<string, string>, name: string): number | undefined {
  const raw = params.get(name);
  params.delete(name);
  if (raw === undefined) return undefined;
  if (!/^\s*[-+]?\d+\s*$/.test(raw)) {
    throw new ApiFault(400, name === 'limit' ? 'limit param must be an integer' : `${name} must be an integer`);
  }
  const value = Number(raw);
  if (value < 0) throw new ApiFault(400, name === 'limit' ? 'limit param must be positive' : `${name} must be >= 0`);
  return value;
}

/** `sort=k1:dir,k2` or the deprecated `sort_key`/`sort_dir`, never both; created_at desc by default. */
function takeSort(params: Map<string, string>): SortKey[] {
  const pairs: Array<[string, string]> = [];
  const sort = params.get('sort');
  if (sort !== undefined) {
    if (params.has('sort_key') || params.has('sort_dir')) {
      throw new ApiFault(
        400,
        "The 'sort_key' and 'sort_dir' parameters are deprecated and cannot be used with the 'sort' parameter.",
      );
    }
    for (const item of sort.trim().split(',')) {
      const [key, dir] = item.split(':', 2);
      pairs.push([key!.trim(), (dir || 'desc').trim()]);
    }
  } else {
    pairs.push([params.get('sort_key') ?? 'created_at', params.get('sort_dir') ?? 'desc']);
  }
  for (const key of ['sort', 'sort_key', 'sort_dir']) params.delete(key);
  return pairs.map(([key, dir]) => {
    const lower = dir.toLowerCase();
    if (lower !== 'asc' && lower !== 'desc') {
      throw new ApiFault(400, "Invalid input received: Unknown sort direction, must be 'desc' or 'asc'");
    }
    return { key, dir: lower as SortKey['dir'] };
  });
}

function baseQuery(params: Map<string, string>, allTenants: boolean): ListQuery {
  const limit = integerParam(params, 'limit');
  const offset = integerParam(params, 'offset');
  const marker = params.get('marker') || undefined;
  params.delete('marker');
  const query: ListQuery = { filters: {}, sort: takeSort(params), allTenants, limit: Math.min(limit ?? MAX_LIMIT, MAX_LIMIT) };
  if (marker !== undefined) query.marker = marker;
  if (offset !== undefined) query.offset = offset;
  return query;
}

/** Python-literal dicts as cinderclient sends them ("{'k': 'v'}"), or JSON. */
function parseMetadataFilter(raw: string): Record<string, string> {
  for (const text of [raw, raw.replace(/'/g, '"')]) {
    try {
      const parsed: unknown = JSON.parse(text);
      if (parsed && typeof parsed === 'object' && !Array.isArray(parsed)) {
        return Object.fromEntries(Object.entries(parsed).map(([k, v]) => [k, String(v)]));
      }
    } catch {
      // try the next reading
    }
  }
  throw new ApiFault(400, `Invalid input received: 'metadata = ${raw}'`);
}

/** 3.60's `created_at=gt:2026-01-01T00:00:00,lt:...`, checked the way Cinder checks it. */
function checkTimeComparison(key: string, raw: string): void {
  for (const unit of raw.split(',')) {
    const colon = unit.indexOf(':');
    if (colon < 0) throw new ApiFault(400, `Invalid ${key} value`);
    const op = unit.slice(0, colon);
    const text = unit.slice(colon + 1);
    if (!TIME_OPERATORS.includes(op)) throw new ApiFault(400, `Invalid ${op} operator`);
    if (Number.isNaN(Date.parse(/(Z|[+-]\d{2}:?\d{2})$/i.test(text) ? text : `${text}Z`))) {
      throw new ApiFault(400, `Invalid ${text} value`);
    }
  }
}

export interface ListPlan {
  /** The question cannot match anything (a filter Cinder would find no column for). */
  matchesNothing: boolean;
  query: ListQuery;
  withCount: boolean;
}

export function planVolumeList(params: QueryParams, ctx: RequestContext, version: ApiVersion): ListPlan {
  const rest = flatten(params);
  // Only administrators may look across projects; for anyone else the option is ignored.
  const allTenants = ctx.isAdmin && rest.has('all_tenants') && rest.get('all_tenants') !== '0';
  rest.delete('all_tenants');
  const query = baseQuery(rest, allTenants);
  let withCount = false;
  if (version.atLeast('3.45') && rest.has('with_count')) withCount = parseBoolParam('with_count', rest.get('with_count')!);
  rest.delete('with_count');
  if (!version.atLeast('3.13')) rest.delete('group_id');

  let matchesNothing = false;
  for (const [key, raw] of rest) {
    const like = key.endsWith('~');
    const field = like ? key.slice(0, -1) : key;
    if (!ctx.isAdmin && !USER_VOLUME_FILTERS.includes(field)) continue;
    // Before 3.34 "name~" is just a name no column has.
    if (like && !version.atLeast('3.34')) {
      matchesNothing = true;
      continue;
    }
    if (field === 'metadata' && !like) {
      query.filters.metadata = parseMetadataFilter(raw);
      continue;
    }
    if (TIME_FILTERS.includes(field) && !like) {
      if (version.atLeast('3.60')) checkTimeComparison(field, raw);
      // Before 3.60 the value is compared as it is, and an operator makes it match no date.
      else if (/^[a-z]+:/.test(raw)) matchesNothing = true;
    }
    if (BOOLEAN_FILTERS.includes(field) && !like) {
      try {
        parseBoolParam(field, raw);
      } catch {
        throw new ApiFault(400, `Invalid input received: '${field} = ${raw}'`);
      }
    }
    query.filters[key] = raw;
  }
  return { matchesNothing, query, withCount };
}

export function planAttachmentList(params: QueryParams, ctx: RequestContext): ListPlan {
  const rest = flatten(params);
  // For attachments Cinder looks only at the option's presence.
  const allTenants = ctx.isAdmin && rest.has('all_tenants');
  rest.delete('all_tenants');
  const query = baseQuery(rest, allTenants);
  for (const [key, raw] of rest) {
    if (!ctx.isAdmin && !USER_ATTACHMENT_FILTERS.includes(key)) continue;
    query.filters[key] = raw;
  }
  return { matchesNothing: false, query, withCount: false };
}

/** What a snapshot list before 3.33 lets a caller who is not an administrator filter on; the rest is dropped. */
const LEGACY_USER_SNAPSHOT_FILTERS = ['status', 'volume_id', 'name', 'metadata'];
/** The names resource filters (3.33) give Cinder's columns. */
const SNAPSHOT_FILTER_COLUMNS: Record<string, string> = { name: 'display_name', 'name~': 'display_name~', 'description~': 'display_description~' };

/**
 * Snapshot lists as Cinder's v3 controller reads them: from 3.33 a filter a caller who is
 * not an administrator may not use is a 400 (before, it is dropped); metadata from 3.22;
 * `name` sorts by display_name from 3.30; with_count from 3.45.
 */
export function planSnapshotList(params: QueryParams, ctx: RequestContext, version: ApiVersion): ListPlan {
  const rest = flatten(params);
  const allTenants = ctx.isAdmin && rest.has('all_tenants') && rest.get('all_tenants') !== '0';
  // Never a filter: cinderclient always sends it, and Cinder lets it pass for everyone.
  rest.delete('all_tenants');
  const query = baseQuery(rest, allTenants);
  if (version.atLeast('3.30')) query.sort = query.sort.map((s) => (s.key === 'name' ? { ...s, key: 'display_name' } : s));
  let withCount = false;
  if (version.atLeast('3.45') && rest.has('with_count')) withCount = parseBoolParam('with_count', rest.get('with_count')!);
  rest.delete('with_count');
  if (version.atLeast('3.33')) {
    const invalid = ctx.isAdmin ? [] : [...rest.keys()].filter((key) => !USER_SNAPSHOT_FILTERS.includes(key));
    if (invalid.length > 0) throw new ApiFault(400, `Invalid filters ${invalid.join(',')} are found in query options.`);
  } else {
    if (!version.atLeast('3.22')) rest.delete('metadata');
    rest.delete('consumes_quota');
    if (!ctx.isAdmin) for (const key of [...rest.keys()]) if (!LEGACY_USER_SNAPSHOT_FILTERS.includes(key)) rest.delete(key);
  }

  let matchesNothing = false;
  for (const [key, raw] of rest) {
    if (key === 'metadata') {
      try {
        query.filters.metadata = parseMetadataFilter(raw);
      } catch {
        // Cinder keeps a value that is not a dict as it is, and then no snapshot matches it.
        matchesNothing = true;
      }
      continue;
    }
    if (key === 'consumes_quota') {
      // Every snapshot here counts against its project's quotas.
      if (!parseBoolParam(key, raw)) matchesNothing = true;
      continue;
    }
    query.filters[Object.hasOwn(SNAPSHOT_FILTER_COLUMNS, key) ? SNAPSHOT_FILTER_COLUMNS[key]! : key] = raw;
  }
  return { matchesNothing, query, withCount };
}

/** Messages: from 3.5 limit, marker, offset, sort and exact filters on Cinder's message filters; before, everything. */
/**
 * Lists of groups and group snapshots: paging and sort as everywhere, all_tenants for an
 * administrator, and every other parameter (but those in `ignored`) an exact filter.
 */
export function planGroupList(params: QueryParams, ctx: RequestContext, ignored: readonly string[] = []): ListQuery {
  const rest = flatten(params);
  const allTenants = ctx.isAdmin && rest.has('all_tenants');
  rest.delete('all_tenants');
  const query = baseQuery(rest, allTenants);
  for (const key of ignored) rest.delete(key);
  for (const [key, value] of rest) query.filters[key] = value;
  return query;
}

export function planMessageList(params: QueryParams, version: ApiVersion): ListQuery {
  if (!version.atLeast('3.5')) return { filters: {}, sort: [], allTenants: false };
  const rest = flatten(params);
  const query = baseQuery(rest, false);
  for (const key of MESSAGE_FILTERS) {
    const value = rest.get(key);
    if (value !== undefined) query.filters[key] = value;
  }
  return query;
}

/** os-services: exact host and binary. */
export function serviceFilters(params: QueryParams): { host?: string; binary?: string } {
  const rest = flatten(params);
  const filters: { host?: string; binary?: string } = {};
  const host = rest.get('host');
  const binary = rest.get('binary');
  if (host !== undefined) filters.host = host;
  if (binary !== undefined) filters.binary = binary;
  return filters;
}

/** Backup lists: Cinder's general list parameters; every other parameter is a filter, which the workflow narrows for non-administrators. */
export function planBackupList(params: QueryParams, ctx: RequestContext, version: ApiVersion): ListPlan {
  const rest = flatten(params);
  const allTenants = ctx.isAdmin && rest.has('all_tenants') && rest.get('all_tenants') !== '0';
  rest.delete('all_tenants');
  const query = baseQuery(rest, allTenants);
  // Before 3.37 `name` names no column of the backups table.
  if (!version.atLeast('3.37') && query.sort.some((s) => s.key === 'name')) throw new ApiFault(400, 'Invalid input received: Invalid sort key name');
  let withCount = false;
  if (version.atLeast('3.45') && rest.has('with_count')) withCount = parseBoolParam('with_count', rest.get('with_count')!);
  rest.delete('with_count');
  for (const [key, raw] of rest) query.filters[key] = raw;
  return { matchesNothing: false, query, withCount };
}

/** QoS specs: limit, marker, offset and sort; every other parameter is a filter, as Cinder leaves them for administrators. */
export function planQosSpecsList(params: QueryParams): ListQuery {
  const rest = flatten(params);
  const query = baseQuery(rest, false);
  query.filters = Object.fromEntries(rest);
  return query;
}
/**
 * Transfer lists: every parameter but all_tenants is a filter on a column (name meaning
 * display_name), oldest first; `paged` (/volume-transfers from 3.59) takes limit, marker,
 * offset and sort first, newest first by default.
 */
export function planTransferList(params: QueryParams, ctx: RequestContext, paged: boolean): TransferListQuery {
  const rest = flatten(params);
  // Cinder reads the option leniently here: anything it cannot read as true is false.
  const allTenants = ctx.isAdmin && ['1', 't', 'true', 'on', 'y', 'yes'].includes((rest.get('all_tenants') ?? '').toLowerCase());
  rest.delete('all_tenants');
  let query: TransferListQuery = {
    allTenants,
    filters: {},
    sort: [
      { key: 'created_at', dir: 'asc' },
      { key: 'id', dir: 'asc' },
    ],
    limit: MAX_LIMIT,
  };
  if (paged) {
    const { filters: _none, ...base } = baseQuery(rest, allTenants);
    query = { ...base, filters: {} };
  }
  for (const [key, value] of rest) query.filters[key === 'name' ? 'display_name' : key] = value;
  return query;
}

/**
 * Manageable volume and snapshot lists: the host (or from 3.17 a cluster, which this
 * service never has) is required; limit, offset, a JSON reference as marker, and sort on
 * reference or size, by reference descending unless asked.
 */
export function planManageableList(params: QueryParams, version: ApiVersion): ManageableQuery {
  const rest = flatten(params);
  const host = hostOrCluster(rest.get('host'), rest.get('cluster'), version.atLeast('3.17'));
  if (!rest.has('sort') && !rest.has('sort_key')) rest.set('sort_key', 'reference');
  const { limit, offset, marker, sort } = baseQuery(rest, false);
  return { host, limit: limit ?? MAX_LIMIT, offset: offset ?? 0, sort, ...(marker !== undefined ? { marker } : {}) };
}

/** Cinder's common.get_cluster_host, for a service without clusters: the host, or why there is none. */
export function hostOrCluster(host: unknown, cluster: unknown, clustersAllowed: boolean): string {
  const given = (v: unknown) => v !== undefined && v !== null && v !== '';
  if (!clustersAllowed) {
    if (!given(host)) throw new ApiFault(400, 'Host field is missing.');
    return String(host);
  }
  if (given(host) === given(cluster)) throw new ApiFault(400, 'One and only one of cluster and host must be set.');
  if (given(cluster)) throw new ApiFault(400, `Cluster '${String(cluster)}' not found`);
  return String(host);
}
